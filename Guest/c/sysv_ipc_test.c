/*
 * sysv_ipc_test.c — System V message queues: msgget with IPC_PRIVATE and keys
 * (IPC_CREAT|IPC_EXCL, ENOENT), msgsnd/msgrcv type selection (0, positive, MSG_EXCEPT,
 * negative), E2BIG and MSG_NOERROR, IPC_NOWAIT (ENOMSG, EAGAIN on a full queue), msgctl
 * IPC_STAT/IPC_SET/IPC_INFO/IPC_RMID, permissions from the effective uid, a blocked receiver
 * woken by a send and one failed with EIDRM by IPC_RMID. Semaphore sets: semget limits,
 * SETVAL/GETVAL/SETALL/GETALL/GETPID/GETNCNT/GETZCNT, all-or-nothing semop, IPC_NOWAIT,
 * ERANGE, EFBIG, E2BIG, semtimedop's timeout, a waiter woken by an increment and one failed
 * with EIDRM.
 *
 * Layer: guest test program (Tests/integration/run.sh runs it natively, then under egg).
 * The permission part switches the effective uid and needs root; as another user natively it
 * prints a SKIP line and exits 77. msgget(2), msgop(2), msgctl(2).
 */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <time.h>

const char *const test_name = "sysv_ipc_test";

struct msg { long type; char text[64]; };

static int send_text(int q, long type, const char *text, int flags)
{
    struct msg m = { type, { 0 } };
    strncpy(m.text, text, sizeof m.text - 1);
    return msgsnd(q, &m, strlen(text), flags);
}

static long receive(int q, long type, int flags, char *out, size_t size)
{
    struct msg m;
    memset(&m, 0, sizeof m);
    ssize_t n = msgrcv(q, &m, size, type, flags);
    if (n >= 0 && out) {
        memcpy(out, m.text, (size_t)n);
        out[n] = 0;
    }
    return n < 0 ? -1 : m.type;
}

static int blocked_q;
static volatile int thread_errno;
static char thread_text[64];

static void *receiver(void *arg)
{
    (void)arg;
    struct msg m;
    errno = 0;
    ssize_t n = msgrcv(blocked_q, &m, sizeof m.text, 0, 0);
    if (n >= 0) {
        memcpy(thread_text, m.text, (size_t)n);
        thread_text[n] = 0;
        thread_errno = 0;
    } else {
        thread_errno = errno;
    }
    return NULL;
}

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static int sem_set;
static void *sem_waiter(void *arg)
{
    struct sembuf op = { (unsigned short)(long)arg, (long)arg == 0 ? -1 : 0, 0 };
    errno = 0;
    thread_errno = semop(sem_set, &op, 1) == 0 ? 0 : errno;
    return NULL;
}

static void sleep_ms(long ms);

static void semaphores(void)
{
    CHECK_ERRNO(semget(IPC_PRIVATE, 0, 0600), EINVAL);
    CHECK_ERRNO(semget(IPC_PRIVATE, 32001, 0600), EINVAL);
    key_t key = 0x53650000 | (getpid() & 0xffff);
    int s = semget(key, 3, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(s >= 0, "semget: %s", strerror(errno));
    CHECK_ERRNO(semget(key, 4, 0600), EINVAL);
    CHECK(semget(key, 2, 0600) == s, "fewer semaphores than the set has is fine");
    union semun u;
    u.val = 5;
    CHECK(semctl(s, 0, SETVAL, u) == 0 && semctl(s, 0, GETVAL) == 5, "SETVAL/GETVAL");
    u.val = -1;
    CHECK_ERRNO(semctl(s, 0, SETVAL, u), ERANGE);
    u.val = 32768;
    CHECK_ERRNO(semctl(s, 0, SETVAL, u), ERANGE);
    CHECK_ERRNO(semctl(s, 3, GETVAL), EINVAL);
    unsigned short all[3] = { 1, 2, 3 }, got[3] = { 0, 0, 0 };
    u.array = all;
    CHECK(semctl(s, 0, SETALL, u) == 0, "SETALL: %s", strerror(errno));
    u.array = got;
    CHECK(semctl(s, 0, GETALL, u) == 0 && got[0] == 1 && got[1] == 2 && got[2] == 3, "GETALL %d %d %d", got[0], got[1], got[2]);
    struct semid_ds ds;
    u.buf = &ds;
    CHECK(semctl(s, 0, IPC_STAT, u) == 0 && ds.sem_nsems == 3 && (ds.sem_perm.mode & 0777) == 0600, "IPC_STAT");

    /* All or nothing. */
    struct sembuf two[2] = { { 0, -1, 0 }, { 1, -3, IPC_NOWAIT } };
    CHECK_ERRNO(semop(s, two, 2), EAGAIN);
    CHECK(semctl(s, 0, GETVAL) == 1, "the first operation must not have happened");
    two[1].sem_op = -2;
    CHECK(semop(s, two, 2) == 0, "semop: %s", strerror(errno));
    CHECK(semctl(s, 0, GETVAL) == 0 && semctl(s, 1, GETVAL) == 0 && semctl(s, 1, GETPID) == getpid(), "after semop");
    struct sembuf zero = { 0, 0, IPC_NOWAIT }, nonzero = { 2, 0, IPC_NOWAIT };
    CHECK(semop(s, &zero, 1) == 0, "wait for zero on a zero value");
    CHECK_ERRNO(semop(s, &nonzero, 1), EAGAIN);
    struct sembuf bad = { 3, 1, 0 };
    CHECK_ERRNO(semop(s, &bad, 1), EFBIG);
    CHECK_ERRNO(semop(s, &zero, 0), EINVAL);
    CHECK_ERRNO(semop(s, &zero, 501), E2BIG);
    struct sembuf big = { 2, 32767, 0 };
    CHECK_ERRNO(semop(s, &big, 1), ERANGE);
    struct sembuf take = { 1, -1, 0 };
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    CHECK_ERRNO(semtimedop(s, &take, 1, &ts), EAGAIN);
    ts.tv_nsec = 1000000000;
    CHECK_ERRNO(semtimedop(s, &take, 1, &ts), EINVAL);

    /* Permissions from the effective uid. */
    CHECK(seteuid(1000) == 0, "seteuid");
    CHECK_ERRNO(semctl(s, 0, GETVAL), EACCES);
    CHECK_ERRNO(semop(s, &zero, 1), EACCES);
    CHECK_ERRNO(semctl(s, 0, IPC_RMID), EPERM);
    CHECK(seteuid(0) == 0, "seteuid(0)");

    /* A waiter for a decrement wakes when the value rises; one waiting for zero gets EIDRM. */
    pthread_t t;
    sem_set = s;
    thread_errno = -1;
    CHECK(pthread_create(&t, NULL, sem_waiter, (void *)0L) == 0, "pthread_create");
    sleep_ms(100);
    CHECK(thread_errno == -1 && semctl(s, 0, GETNCNT) == 1, "GETNCNT %d with one waiter", semctl(s, 0, GETNCNT));
    struct sembuf give = { 0, 1, 0 };
    CHECK(semop(s, &give, 1) == 0, "increment");
    pthread_join(t, NULL);
    CHECK(thread_errno == 0 && semctl(s, 0, GETVAL) == 0, "the waiter took the increment (errno %d)", thread_errno);
    thread_errno = -1;
    CHECK(pthread_create(&t, NULL, sem_waiter, (void *)2L) == 0, "pthread_create");
    sleep_ms(200);
    CHECK(semctl(s, 2, GETZCNT) == 1, "GETZCNT %d", semctl(s, 2, GETZCNT));
    CHECK(semctl(s, 0, IPC_RMID) == 0, "IPC_RMID: %s", strerror(errno));
    pthread_join(t, NULL);
    CHECK(thread_errno == EIDRM, "waiter after IPC_RMID: errno %d", thread_errno);
    CHECK_ERRNO(semctl(s, 0, GETVAL), EINVAL);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("SKIP sysv_ipc_test: needs root (running as uid %d)\n", (int)geteuid());
        return 77;
    }
    char text[128];
    /* Keys: a private queue, and one named by a key (removed first if a failed run left it). */
    key_t key = 0x45670000 | (getpid() & 0xffff);   /* per process: run.sh runs variants side by side */
    int stale = msgget(key, 0);
    if (stale >= 0)
        msgctl(stale, IPC_RMID, NULL);
    CHECK_ERRNO(msgget(key, 0600), ENOENT);
    int q = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(q >= 0, "msgget(IPC_CREAT|IPC_EXCL): %s", strerror(errno));
    CHECK_ERRNO(msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    CHECK(msgget(key, IPC_CREAT | 0600) == q && msgget(key, 0) == q, "msgget finds the key's queue");
    int p = msgget(IPC_PRIVATE, 0600);
    CHECK(p >= 0 && p != q, "IPC_PRIVATE gives a new queue");
    int p2 = msgget(IPC_PRIVATE, 0600);
    CHECK(p2 >= 0 && p2 != p, "every IPC_PRIVATE is new");
    CHECK(msgctl(p2, IPC_RMID, NULL) == 0, "IPC_RMID p2: %s", strerror(errno));

    /* Type selection. */
    CHECK(send_text(q, 2, "two", 0) == 0, "msgsnd: %s", strerror(errno));
    CHECK(send_text(q, 1, "one", 0) == 0 && send_text(q, 3, "three", 0) == 0 && send_text(q, 1, "uno", 0) == 0, "sends");
    struct msqid_ds ds;
    CHECK(msgctl(q, IPC_STAT, &ds) == 0, "IPC_STAT: %s", strerror(errno));
    CHECK(ds.msg_qnum == 4 && ds.msg_cbytes == 14 && ds.msg_lspid == getpid() && ds.msg_qbytes == 16384,
          "IPC_STAT qnum %lu cbytes %lu lspid %d qbytes %lu", (unsigned long)ds.msg_qnum,
          (unsigned long)ds.msg_cbytes, (int)ds.msg_lspid, (unsigned long)ds.msg_qbytes);
    CHECK((ds.msg_perm.mode & 0777) == 0600 && ds.msg_perm.uid == 0 && ds.msg_perm.__key == key, "IPC_STAT perm");
    CHECK(receive(q, 3, IPC_NOWAIT, text, 64) == 3 && strcmp(text, "three") == 0, "type 3: %s", text);
    CHECK(receive(q, 1, IPC_NOWAIT | MSG_EXCEPT, text, 64) == 2 && strcmp(text, "two") == 0, "MSG_EXCEPT 1: %s", text);
    CHECK_ERRNO(receive(q, 2, IPC_NOWAIT, text, 64), ENOMSG);
    CHECK(send_text(q, 5, "five", 0) == 0, "send 5");
    CHECK(receive(q, -4, IPC_NOWAIT, text, 64) == 1 && strcmp(text, "one") == 0, "type -4: lowest first: %s", text);
    CHECK_ERRNO(receive(q, 0, IPC_NOWAIT, text, 2), E2BIG);
    CHECK(receive(q, 0, IPC_NOWAIT | MSG_NOERROR, text, 2) == 1 && strcmp(text, "un") == 0, "MSG_NOERROR truncates: %s", text);
    CHECK(receive(q, 0, IPC_NOWAIT, text, 64) == 5, "then the next message");
    CHECK_ERRNO(receive(q, 0, IPC_NOWAIT, text, 64), ENOMSG);

    /* Argument errors. */
    struct msg m = { 0, "x" };
    CHECK_ERRNO(msgsnd(q, &m, 1, 0), EINVAL);
    m.type = 1;
    CHECK_ERRNO(msgsnd(q, &m, 8193, 0), EINVAL);
    CHECK_ERRNO(msgsnd(q, (void *)8, 1, 0), EFAULT);
    CHECK_ERRNO(msgsnd(0x7ffffff, &m, 1, 0), EINVAL);
    CHECK_ERRNO(msgrcv(q, &m, -1, 0, 0), EINVAL);

    /* A full queue: IPC_SET shrinks it to 8 bytes; IPC_NOWAIT then gives EAGAIN. */
    ds.msg_qbytes = 8;
    CHECK(msgctl(q, IPC_SET, &ds) == 0, "IPC_SET: %s", strerror(errno));
    CHECK(send_text(q, 1, "12345678", IPC_NOWAIT) == 0, "fill");
    CHECK_ERRNO(send_text(q, 1, "9", IPC_NOWAIT), EAGAIN);
    CHECK(receive(q, 0, 0, text, 64) == 1, "drain");
    struct msginfo info;
    CHECK(msgctl(0, IPC_INFO, (struct msqid_ds *)&info) >= 0 && info.msgmax == 8192 && info.msgmnb == 16384,
          "IPC_INFO msgmax %d msgmnb %d", info.msgmax, info.msgmnb);

    /* Permissions follow the effective uid: mode 0600 keeps uid 1000 out. */
    CHECK(seteuid(1000) == 0, "seteuid: %s", strerror(errno));
    CHECK_ERRNO(send_text(q, 1, "x", IPC_NOWAIT), EACCES);
    CHECK_ERRNO(receive(q, 0, IPC_NOWAIT, text, 64), EACCES);
    CHECK_ERRNO(msgget(key, 0600), EACCES);
    CHECK(msgget(key, 0) == q, "msgget asking for no permission");
    CHECK_ERRNO(msgctl(q, IPC_RMID, NULL), EPERM);
    CHECK_ERRNO(msgctl(q, IPC_STAT, &ds), EACCES);
    CHECK(seteuid(0) == 0, "seteuid(0)");

    /* A blocked receiver wakes for a send, and fails with EIDRM when the queue goes. */
    pthread_t t;
    blocked_q = p;
    thread_errno = -1;
    CHECK(pthread_create(&t, NULL, receiver, NULL) == 0, "pthread_create");
    sleep_ms(100);
    CHECK(thread_errno == -1, "the receiver should still be waiting");
    CHECK(send_text(p, 7, "wake", 0) == 0, "send to the waiter");
    pthread_join(t, NULL);
    CHECK(thread_errno == 0 && strcmp(thread_text, "wake") == 0, "receiver got %s (errno %d)", thread_text, thread_errno);
    thread_errno = -1;
    CHECK(pthread_create(&t, NULL, receiver, NULL) == 0, "pthread_create");
    sleep_ms(200);
    CHECK(msgctl(p, IPC_RMID, NULL) == 0, "IPC_RMID: %s", strerror(errno));
    pthread_join(t, NULL);
    CHECK(thread_errno == EIDRM, "receiver after IPC_RMID: errno %d, expected EIDRM", thread_errno);
    CHECK_ERRNO(msgsnd(p, &m, 1, 0), EINVAL);

    CHECK(msgctl(q, IPC_RMID, NULL) == 0, "IPC_RMID q");
    CHECK_ERRNO(msgget(key, 0), ENOENT);
    semaphores();
    return pass(NULL);
}
