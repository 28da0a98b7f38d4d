/*
 * exit_code.c — exits with the integer given in argv[1] (0..255), so that the runner can
 * check that egg hands the guest's exit status back as its own. Prints one verdict line
 * first. Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
 */
#include "check.h"

const char *const test_name = "exit_code";

int main(int argc, char **argv)
{
    CHECK(argc == 2, "usage: exit_code N (got %d arguments)", argc - 1);
    char *end = NULL;
    long code = strtol(argv[1], &end, 10);
    CHECK(end != argv[1] && *end == '\0' && code >= 0 && code <= 255,
          "argument '%s' is not an integer in 0...255", argv[1]);
    pass("exiting with %ld", code);
    /* exit(3) runs atexit handlers and then exit_group(2) with the low 8 bits. */
    exit((int)code);
}
