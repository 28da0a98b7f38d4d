/*
 * args_env.c — checks the initial process stack as the loader built it: argc/argv must be
 * exactly `args_env one "two words" three` (argv[0] may be any non-empty path), argv[argc]
 * is NULL, environ is a NULL-terminated list of NAME=value strings containing EGG_TEST=ok.
 * The runner passes `-e EGG_TEST=ok` to egg and exports it natively.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
 */
#include "check.h"

const char *const test_name = "args_env";

extern char **environ;

int main(int argc, char **argv, char **envp)
{
    static const char *const expected[] = {"one", "two words", "three"};
    const int nexpected = (int)(sizeof expected / sizeof expected[0]);

    CHECK(argc == nexpected + 1, "argc is %d, expected %d", argc, nexpected + 1);
    CHECK(argv[0] != NULL && argv[0][0] != '\0', "argv[0] is empty");
    for (int i = 0; i < nexpected; i++)
        CHECK(strcmp(argv[i + 1], expected[i]) == 0, "argv[%d] is '%s', expected '%s'",
              i + 1, argv[i + 1], expected[i]);
    CHECK(argv[argc] == NULL, "argv[argc] is not NULL");

    /* The third argument of main and environ are the same array (right after argv). */
    CHECK(envp == environ, "envp (%p) != environ (%p)", (void *)envp, (void *)environ);
    CHECK(envp == argv + argc + 1, "envp does not follow argv's NULL on the stack");

    int found = 0, count = 0;
    for (char **e = envp; *e != NULL; e++, count++) {
        CHECK(strchr(*e, '=') != NULL, "environment entry %d '%s' has no '='", count, *e);
        if (strcmp(*e, "EGG_TEST=ok") == 0)
            found++;
    }
    CHECK(found == 1, "EGG_TEST=ok found %d times in %d environment entries", found, count);
    const char *v = getenv("EGG_TEST");
    CHECK(v != NULL && strcmp(v, "ok") == 0, "getenv(\"EGG_TEST\") is '%s'", v ? v : "(null)");
    CHECK(getenv("EGG_SURELY_NOT_SET_1234") == NULL, "getenv of an unset name is not NULL");
    return pass("%d args, %d env entries", argc - 1, count);
}
