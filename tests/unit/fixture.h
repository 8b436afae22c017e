#include <check.h>
#define RUN_SUITE(s) do { SRunner *sr = srunner_create(s); srunner_run_all(sr, CK_NORMAL); int nf = srunner_ntests_failed(sr); srunner_free(sr); return nf ? 1 : 0; } while (0)
