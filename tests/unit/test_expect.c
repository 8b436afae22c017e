/* Expectation logic: conditions, kernel versions, first-match rules. */
#include "fixture.h"
#include "parse/casefile.h"
#include "parse/expect.h"

#include <stdlib.h>
#include <string.h>

static const char *rules =
	"case 0902\ntitle t\ngroup g\nmatrix state LISTEN TIME_WAIT\nmatrix r 0 1\ntest:\n    socket s tcp\n"
	"expect ENOPROTOOPT when kernel<6.3\n    why old\n    ref a\n"
	"expect EADDRINUSE when state=LISTEN\n    why listen\n    ref b\n"
	"expect ok when state!=LISTEN r=1 kernel>=6.14\n    why new\n    ref c\n"
	"expect EADDRNOTAVAIL when r=1\n    why between\n    ref d\n"
	"expect EADDRINUSE\n    why default\n    ref e\n";

static const char *pick(const struct case_file *cf, const char *state, const char *r, struct kver k)
{
	struct kvlist v = { 0 };
	kv_set(&v, "state", state);
	kv_set(&v, "r", r);
	const struct expect_rule *rule = expect_pick(cf, &v, k);
	kv_free(&v);
	return rule ? rule->why : NULL;
}

TCASE(rules);

TEST(rules, first_matching_rule_wins)
{
	struct case_file cf;
	char err[256];
	ck_assert_msg(casefile_parse("cases/0902.case", rules, &cf, err, sizeof(err)) == 0, "%s", err);
	struct kver k61 = { 6, 1, 0 }, k612 = { 6, 12, 0 }, k618 = { 6, 18, 0 };
	ck_assert_str_eq(pick(&cf, "LISTEN", "1", k61), "old");
	ck_assert_str_eq(pick(&cf, "LISTEN", "1", k618), "listen");
	ck_assert_str_eq(pick(&cf, "TIME_WAIT", "1", k618), "new");
	ck_assert_str_eq(pick(&cf, "TIME_WAIT", "1", k612), "between");
	ck_assert_str_eq(pick(&cf, "TIME_WAIT", "0", k618), "default");
	casefile_free(&cf);
}
END_TEST

TEST(rules, kernel_versions)
{
	struct kver k;
	ck_assert_int_eq(kver_parse("6.18.44-fc-v657", &k), 0);
	ck_assert_int_eq(k.major, 6);
	ck_assert_int_eq(k.minor, 18);
	ck_assert_int_eq(kver_parse("6.1.0-37-cloud-amd64", &k), 0);
	ck_assert_int_eq(k.minor, 1);
	ck_assert_int_eq(kver_parse("linux", &k), -1);
	ck_assert_int_lt(kver_cmp((struct kver){ 6, 1, 0 }, (struct kver){ 6, 12, 0 }), 0);
	ck_assert_int_gt(kver_cmp((struct kver){ 6, 12, 0 }, (struct kver){ 6, 2, 0 }), 0);  /* numeric, not text */
	ck_assert_int_gt(kver_cmp((struct kver){ 7, 0, 0 }, (struct kver){ 6, 99, 0 }), 0);
	ck_assert_int_eq(kver_cmp((struct kver){ 6, 14, 0 }, (struct kver){ 6, 14, 0 }), 0);
	ck_assert_int_eq(k.patch, 0);
	ck_assert_int_eq(kver_parse("6.18.44-fc-v657", &k), 0);
	ck_assert_int_eq(k.patch, 44);
	ck_assert_int_gt(kver_cmp((struct kver){ 6, 1, 192 }, (struct kver){ 6, 1, 32 }), 0);
	ck_assert_int_lt(kver_cmp((struct kver){ 6, 1, 0 }, (struct kver){ 6, 1, 32 }), 0);
}
END_TEST

/* Conditions compare three parts: Debian's 6.1.0-56 is upstream 6.1.192 and has the 6.1.32
 * backport of IP_LOCAL_PORT_RANGE; major.minor alone would put it before 6.1.32. */
TEST(rules, kernel_conditions_compare_three_parts)
{
	struct case_file cf;
	char err[256];
	static const char *text =
		"case 0903\ntitle t\ngroup g\ntest:\n    socket s tcp\n"
		"expect ok when kernel>=6.1.32 kernel<6.2\n    why backport\n    ref a\n"
		"expect ok when kernel>=6.17.8 kernel<6.18\n    why stable\n    ref b\n"
		"expect ENOPROTOOPT\n    why before\n    ref c\n";
	ck_assert_msg(casefile_parse("cases/0903.case", text, &cf, err, sizeof(err)) == 0, "%s", err);
	struct kvlist v = { 0 };
	struct kver k;
	ck_assert_int_eq(kver_upstream("6.1.0-56-cloud-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)", &k), 0);
	ck_assert_str_eq(expect_pick(&cf, &v, k)->why, "backport");
	ck_assert_str_eq(expect_pick(&cf, &v, (struct kver){ 6, 1, 31 })->why, "before");
	ck_assert_str_eq(expect_pick(&cf, &v, (struct kver){ 6, 17, 8 })->why, "stable");
	ck_assert_str_eq(expect_pick(&cf, &v, (struct kver){ 6, 17, 7 })->why, "before");
	ck_assert_str_eq(expect_pick(&cf, &v, (struct kver){ 6, 18, 0 })->why, "before");
	casefile_free(&cf);
}
END_TEST

TEST(rules, upstream_version_of_a_distribution_kernel)
{
	struct kver k;
	ck_assert_int_eq(kver_upstream("6.1.0-56-cloud-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)", &k), 0);
	ck_assert_int_eq(kver_cmp(k, (struct kver){ 6, 1, 192 }), 0);
	ck_assert_int_eq(kver_upstream("6.12.117+deb12-cloud-amd64",
				       "#1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1~deb12u1 (2026-11-14)", &k), 0);
	ck_assert_int_eq(kver_cmp(k, (struct kver){ 6, 12, 117 }), 0);
	ck_assert_int_eq(kver_upstream("6.18.44-fc-v657", "#1 SMP PREEMPT_DYNAMIC @0", &k), 0);
	ck_assert_int_eq(kver_cmp(k, (struct kver){ 6, 18, 44 }), 0);
	ck_assert_int_eq(kver_upstream("linux", "", &k), -1);
}
END_TEST

TEST(rules, outcomes_match)
{
	ck_assert(outcome_matches("ok", "ok"));
	ck_assert(!outcome_matches("ok", "EADDRINUSE"));
	ck_assert(!outcome_matches("any", "EADDRINUSE"));
	ck_assert(outcome_matches("EADDRNOTAVAIL", "EADDRNOTAVAIL"));
	ck_assert(!outcome_matches("EADDRNOTAVAIL", "ok"));
}
END_TEST

TEST(rules, conditions_on_missing_names)
{
	struct case_file cf;
	char err[256];
	ck_assert_int_eq(casefile_parse("cases/0902.case", rules, &cf, err, sizeof(err)), 0);
	struct kvlist v = { 0 };
	/* state=LISTEN fails without a state; state!=LISTEN holds. */
	ck_assert(!cond_holds(&cf.expects[1].when.v[0], &v, (struct kver){ 6, 18, 0 }));
	ck_assert(cond_holds(&cf.expects[2].when.v[0], &v, (struct kver){ 6, 18, 0 }));
	/* Kernel conditions are ignored by conds_hold_any_kernel. */
	ck_assert(conds_hold_any_kernel(&cf.expects[0].when, &v));
	char *s = cond_str(&cf.expects[2].when.v[2]);
	ck_assert_str_eq(s, "kernel>=6.14");
	free(s);
	kv_free(&v);
	casefile_free(&cf);
}
END_TEST

UNIT_MAIN("expect")
