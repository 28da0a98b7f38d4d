/*
 * prime_sieve.c — the concurrent prime sieve of the eggos examples, with POSIX threads:
 * a generator thread feeds 2, 3, 4, ... into a channel and every prime found adds a filter
 * thread between the previous stage and the main thread. Prints the first 100 primes and
 * checks them against a plain sieve of Eratosthenes. Layer: guest test programs (Guest/c);
 * run natively and under egg by Tests/integration/run.sh.
 */
#include <pthread.h>
#include <stdint.h>
#include "check.h"

const char *const test_name = "prime_sieve";

enum { COUNT = 100, SLOTS = 8 };

/* A bounded channel of ints: mutex + two condition variables. */
struct channel {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    int items[SLOTS];
    int head, size;
};

static struct channel *channel_new(void)
{
    struct channel *c = calloc(1, sizeof *c);
    CHECK(c != NULL, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->not_empty, NULL);
    pthread_cond_init(&c->not_full, NULL);
    return c;
}

static void channel_send(struct channel *c, int v)
{
    pthread_mutex_lock(&c->lock);
    while (c->size == SLOTS)
        pthread_cond_wait(&c->not_full, &c->lock);
    c->items[(c->head + c->size) % SLOTS] = v;
    c->size++;
    pthread_cond_signal(&c->not_empty);
    pthread_mutex_unlock(&c->lock);
}

static int channel_receive(struct channel *c)
{
    pthread_mutex_lock(&c->lock);
    while (c->size == 0)
        pthread_cond_wait(&c->not_empty, &c->lock);
    int v = c->items[c->head];
    c->head = (c->head + 1) % SLOTS;
    c->size--;
    pthread_cond_signal(&c->not_full);
    pthread_mutex_unlock(&c->lock);
    return v;
}

static void *generate(void *arg)
{
    struct channel *out = arg;
    for (int i = 2;; i++)
        channel_send(out, i);
    return NULL;
}

struct stage { struct channel *in, *out; int prime; };

static void *filter(void *arg)
{
    struct stage *s = arg;
    for (;;) {
        int v = channel_receive(s->in);
        if (v % s->prime != 0)
            channel_send(s->out, v);
    }
    return NULL;
}

static void start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&t, &attr, fn, arg);
    CHECK(e == 0, "pthread_create: %s", strerror(e));
}

int main(void)
{
    int found[COUNT];
    struct channel *ch = channel_new();
    start(generate, ch);
    for (int i = 0; i < COUNT; i++) {
        found[i] = channel_receive(ch);
        struct stage *s = malloc(sizeof *s);
        CHECK(s != NULL, "out of memory");
        s->in = ch;
        s->out = channel_new();
        s->prime = found[i];
        start(filter, s);
        ch = s->out;
    }
    /* The reference: a sieve of Eratosthenes up to the 100th prime (541). */
    char composite[600] = {0};
    int n = 0;
    for (int i = 2; i < 600 && n < COUNT; i++) {
        if (composite[i])
            continue;
        CHECK(found[n] == i, "prime %d is %d, expected %d", n + 1, found[n], i);
        n++;
        for (int j = i * i; j < 600; j += i)
            composite[j] = 1;
    }
    for (int i = 0; i < COUNT; i++)
        printf("%d%c", found[i], i % 20 == 19 ? '\n' : ' ');
    fflush(stdout);
    return pass("%d primes from %d threads", COUNT, COUNT + 1);
}
