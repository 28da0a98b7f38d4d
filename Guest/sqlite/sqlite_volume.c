/*
 * sqlite_volume — a real SQLite database on a directory (issue 13: "a SQLite database kept
 * on a volume survives to a second run"). Built against Debian's libsqlite3.a (gcc -static,
 * glibc) by Guest/Makefile; Tests/integration/volumes.sh runs it natively on a scratch
 * directory, then under egg on a -v volume: `write DIR N` creates DIR/egg.db in rollback-
 * journal mode (the default: a -journal file made, fsync'd and deleted at each commit) and
 * commits N rows in one transaction plus one update transaction; `check DIR N` opens the
 * database in a later run (or on the host), runs PRAGMA integrity_check and checks every
 * row. One verdict line, as the programs in Guest/c.
 */
#include "../c/check.h"
#include <sqlite3.h>

const char *const test_name = "sqlite_volume";

static sqlite3 *db;

static void exec_or_fail(const char *sql)
{
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK)
        fail("%s: %s", sql, error ? error : "?");
}

static long long scalar(const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail("prepare %s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) != SQLITE_ROW)
        fail("step %s: %s", sql, sqlite3_errmsg(db));
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        fail("usage: sqlite_volume write|check DIR ROWS");
    long rows = atol(argv[3]);
    char path[512];
    snprintf(path, sizeof path, "%s/egg.db", argv[2]);
    int writing = strcmp(argv[1], "write") == 0;
    if (writing)
        unlink(path);
    if (sqlite3_open_v2(path, &db, writing ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE,
                        NULL) != SQLITE_OK)
        fail("open %s: %s", path, sqlite3_errmsg(db));
    if (writing) {
        exec_or_fail("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;");
        exec_or_fail("CREATE TABLE t(i INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER NOT NULL)");
        exec_or_fail("BEGIN");
        sqlite3_stmt *ins;
        if (sqlite3_prepare_v2(db, "INSERT INTO t(i, v, n) VALUES(?, ?, ?)", -1, &ins, NULL) != SQLITE_OK)
            fail("prepare insert: %s", sqlite3_errmsg(db));
        for (long i = 1; i <= rows; i++) {
            char text[64];
            snprintf(text, sizeof text, "row-%ld-%08lx", i, (unsigned long)(i * 2654435761u));
            sqlite3_bind_int64(ins, 1, i);
            sqlite3_bind_text(ins, 2, text, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 3, i * 3);
            if (sqlite3_step(ins) != SQLITE_DONE)
                fail("insert %ld: %s", i, sqlite3_errmsg(db));
            sqlite3_reset(ins);
        }
        sqlite3_finalize(ins);
        exec_or_fail("COMMIT");
        exec_or_fail("CREATE INDEX t_n ON t(n)");
        exec_or_fail("UPDATE t SET n = n + 1 WHERE i % 2 = 0");
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW)
        fail("integrity_check: %s", sqlite3_errmsg(db));
    const char *verdict = (const char *)sqlite3_column_text(s, 0);
    if (!verdict || strcmp(verdict, "ok") != 0)
        fail("integrity_check: %s", verdict ? verdict : "(null)");
    sqlite3_finalize(s);
    long long count = scalar("SELECT count(*) FROM t");
    long long sum = scalar("SELECT sum(n) FROM t");
    long long expected = 3LL * rows * (rows + 1) / 2 + rows / 2;   /* 3i, plus 1 for each even i */
    if (count != rows || sum != expected)
        fail("%lld rows with sum %lld, want %ld and %lld", count, sum, rows, expected);
    if (scalar("SELECT count(*) FROM t WHERE v LIKE 'row-%'") != rows)
        fail("text column damaged");
    if (sqlite3_close(db) != SQLITE_OK)
        fail("close: %s", sqlite3_errmsg(db));
    char journal[600];
    snprintf(journal, sizeof journal, "%s-journal", path);
    if (access(journal, F_OK) == 0)
        fail("%s left behind", journal);
    return pass("%s %ld rows, integrity ok", writing ? "wrote" : "read back", rows);
}
