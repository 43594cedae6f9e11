/*
 * test_attach_arule.c - rule evaluation: each match key, first match
 * wins per part, the most severe action wins per message, sender and
 * recipient exceptions, message size rules, bad rules refused; the
 * declared-vs-true type mismatch table; the final decision (adecide).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#include "adecide.h"
#include "arule.h"
#include "attach_conf.h"
#include "awalk.h"

static const char rules_text[] =
    "[attach-rule partner-zips]\n"
    "except_senders = partner.example\n"
    "ext = zip\n"
    "action = tag\n"
    "[attach-rule tricks]\n"
    "name_trick = yes\n"
    "action = reject\n"
    "[attach-rule exe]\n"
    "ext = .exe, scr\n"
    "except_recipients = lab.example\n"
    "action = reject\n"
    "[attach-rule last-js]\n"
    "ext = js\n"
    "ext_last_only = yes\n"
    "action = quarantine\n"
    "[attach-rule pe]\n"
    "true_type = application/x-dosexec, application/vnd.microsoft.portable-executable\n"
    "action = reject\n"
    "[attach-rule enc]\n"
    "encrypted = yes\n"
    "action = quarantine\n"
    "[attach-rule deep]\n"
    "max_depth = 2\n"
    "action = reject\n"
    "[attach-rule big]\n"
    "max_size = 1M\n"
    "action = strip\n"
    "[attach-rule videos]\n"
    "declared_type = video/\n"
    "action = strip\n"
    "[attach-rule broken]\n"
    "unreadable = yes\n"
    "action = quarantine\n"
    "[attach-rule liar]\n"
    "mismatch = yes\n"
    "action = tag\n"
    "[attach-rule huge]\n"
    "message_size = 20M\n"
    "action = reject\n";

static config_t *load(const char *text)
{
    char err[256];
    config_t *cfg = config_load_string("test.conf", text, attach_sections, err, sizeof(err));

    if (cfg == NULL)
        fail_msg("%s", err);
    return cfg;
}

static awalk_item_t part(const char *name, const char *declared, const char *true_type,
                         uint64_t size)
{
    awalk_item_t it;

    memset(&it, 0, sizeof(it));
    snprintf(it.path, sizeof(it.path), "2");
    snprintf(it.name, sizeof(it.name), "%s", name);
    snprintf(it.declared, sizeof(it.declared), "%s", declared);
    snprintf(it.true_type, sizeof(it.true_type), "%s", true_type);
    it.size = size;
    it.attachment = name[0] != '\0';
    it.part = 0;
    return it;
}

typedef struct {
    const char *what;
    awalk_item_t item;
    const char *from;
    const char *rcpt;
    uint64_t msgsize;
    arule_action_t action;
    const char *rule;           /* NULL: nothing matched */
} rule_case_t;

static void one_part_cases(void **state)
{
    config_t *cfg = load(rules_text);
    char err[256];
    arule_set_t *rs = arule_set_new(cfg, err, sizeof(err));
    awalk_item_t enc = part("secret.7z", "application/x-7z-compressed",
                            "application/x-7z-compressed", 200);
    awalk_item_t pzip = part("p.zip", "application/zip", "application/zip", 200);
    awalk_item_t deep = part("x.txt", "", "text/plain", 10);
    awalk_item_t deep2 = part("y.txt", "", "text/plain", 10);
    awalk_item_t broken = part("d.rar", "application/x-rar", "application/x-rar", 10);

    enc.archive = enc.encrypted = true;
    pzip.archive = pzip.encrypted = true;
    deep.entry = true;
    deep.depth = 3;
    deep2.entry = true;
    deep2.depth = 2;
    broken.archive = broken.unreadable = true;
    const rule_case_t cases[] = {
        { "plain pdf", part("a.pdf", "application/pdf", "application/pdf", 100),
          "x.example", "u@y.example", 1000, ARULE_ALLOW, NULL },
        { "double extension", part("invoice.pdf.exe", "application/pdf",
          "application/pdf", 100), "x.example", "u@y.example", 1000, ARULE_REJECT, "exe" },
        { "upper case and trailing dot", part("SETUP.EXE.", "application/octet-stream",
          "application/octet-stream", 100), "x.example", "u@y.example", 1000,
          ARULE_REJECT, "exe" },
        { "RLO trick", part("invoice\xE2\x80\xAE" "fdp.doc", "application/msword",
          "application/msword", 100), "x.example", "u@y.example", 1000, ARULE_REJECT,
          "tricks" },
        { "exe renamed pdf", part("report.pdf", "application/pdf",
          "application/vnd.microsoft.portable-executable", 100), "x.example",
          "u@y.example", 1000, ARULE_REJECT, "pe" },
        { "exe for the lab is exempt from ext, caught by type", part("tool.exe",
          "application/octet-stream", "application/x-dosexec", 100), "x.example",
          "u@lab.example", 1000, ARULE_REJECT, "pe" },
        { "script for the lab is exempt", part("tool.scr", "application/octet-stream",
          "text/plain", 100), "x.example", "u@sub.lab.example", 1000, ARULE_ALLOW, NULL },
        { "js only as last extension", part("a.js.txt", "text/plain", "text/plain", 10),
          "x.example", "u@y.example", 1000, ARULE_ALLOW, NULL },
        { "js last", part("a.txt.js", "text/plain", "text/plain", 10),
          "x.example", "u@y.example", 1000, ARULE_QUARANTINE, "last-js" },
        { "encrypted zip", enc, "x.example", "u@y.example", 1000, ARULE_QUARANTINE, "enc" },
        { "partner zip: first rule skipped, next match", pzip, "mx.partner.example",
          "u@y.example", 1000, ARULE_QUARANTINE, "enc" },
        { "first match wins even when a later rule is harsher", pzip, "x.example",
          "u@y.example", 1000, ARULE_TAG, "partner-zips" },
        { "zip from elsewhere is tagged first", part("a.zip", "application/zip",
          "application/zip", 10), "x.example", "u@y.example", 1000, ARULE_TAG,
          "partner-zips" },
        { "depth 3 > 2", deep, "x.example", "u@y.example", 1000, ARULE_REJECT, "deep" },
        { "depth 2 is fine", deep2, "x.example", "u@y.example", 1000, ARULE_ALLOW, NULL },
        { "big attachment", part("movie.bin", "application/octet-stream",
          "application/octet-stream", 2 << 20), "x.example", "u@y.example", 1000,
          ARULE_STRIP, "big" },
        { "big inline body part is no attachment", part("", "text/plain", "text/plain",
          2 << 20), "x.example", "u@y.example", 1000, ARULE_ALLOW, NULL },
        { "declared video", part("clip.mp4", "video/mp4", "video/mp4", 10), "x.example",
          "u@y.example", 1000, ARULE_STRIP, "videos" },
        { "unreadable archive", broken, "x.example", "u@y.example", 1000,
          ARULE_QUARANTINE, "broken" },
        { "declared image, is pdf", part("a.png", "image/png", "application/pdf", 10),
          "x.example", "u@y.example", 1000, ARULE_TAG, "liar" },
        { "huge message", part("a.pdf", "application/pdf", "application/pdf", 10),
          "x.example", "u@y.example", 30 << 20, ARULE_REJECT, "huge" },
    };

    (void) state;
    assert_non_null(rs);
    assert_int_equal(arule_set_count(rs), 12);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const rule_case_t *c = &cases[i];
        const char *rcpt[] = { c->rcpt };
        arule_env_t env = { c->from, rcpt, 1, c->msgsize };
        arule_verdict_t v;
        assert_int_equal(arule_eval(rs, &env, &c->item, 1, &v), 0);
        if (v.action != c->action)
            fail_msg("%s: action %s, want %s", c->what, arule_action_name(v.action),
                     arule_action_name(c->action));
        const char *got = v.decisive >= 0 ? arule_set_name(rs, v.hits[v.decisive].rule) : NULL;
        if ((got == NULL) != (c->rule == NULL) || (got && strcmp(got, c->rule) != 0))
            fail_msg("%s: rule %s, want %s", c->what, got ? got : "-", c->rule ? c->rule : "-");
        arule_verdict_free(&v);
    }
    arule_set_free(rs);
    config_unref(cfg);
}

static void most_severe_part_decides_and_every_hit_is_listed(void **state)
{
    config_t *cfg = load(rules_text);
    char err[256];
    arule_set_t *rs = arule_set_new(cfg, err, sizeof(err));
    awalk_item_t items[3] = {
        part("clip.mp4", "video/mp4", "video/mp4", 10),
        part("a.txt", "text/plain", "text/plain", 10),
        part("run.exe", "application/octet-stream", "application/octet-stream", 10),
    };
    const char *rcpt[] = { "a@y.example", "b@lab.example" };
    arule_env_t env = { "x.example", rcpt, 2, 100 };
    arule_verdict_t v;

    (void) state;
    assert_int_equal(arule_eval(rs, &env, items, 3, &v), 0);
    assert_int_equal(v.action, ARULE_REJECT);
    assert_int_equal(v.nhits, 2);
    assert_int_equal(v.hits[0].item, 0);
    assert_int_equal(v.hits[0].action, ARULE_STRIP);
    assert_int_equal(v.hits[1].item, 2);
    assert_int_equal(v.decisive, 1);
    assert_string_equal(v.hits[1].reason, "extension .exe");
    arule_verdict_free(&v);
    arule_set_free(rs);
    config_unref(cfg);
}

static void bad_rules_are_refused(void **state)
{
    char err[256];
    config_t *cfg = load("[attach-rule x]\nmessage_size = 1M\next = exe\n");

    (void) state;
    assert_null(arule_set_new(cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "[attach-rule x] message_size"));
    config_unref(cfg);
    cfg = load("[attach-rule y]\nmessage_size = 1M\naction = strip\n");
    assert_null(arule_set_new(cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot strip"));
    config_unref(cfg);
}

static void no_rules_allow_everything(void **state)
{
    config_t *cfg = load("[attach]\nsocket = unix:/tmp/x\n");
    char err[256];
    arule_set_t *rs = arule_set_new(cfg, err, sizeof(err));
    awalk_item_t it = part("x.exe", "", "application/x-dosexec", 1);
    arule_env_t env = { "", NULL, 0, 10 };
    arule_verdict_t v;

    (void) state;
    assert_int_equal(arule_set_count(rs), 0);
    assert_int_equal(arule_eval(rs, &env, &it, 1, &v), 0);
    assert_int_equal(v.decisive, -1);
    assert_int_equal(v.action, ARULE_ALLOW);
    arule_verdict_free(&v);
    arule_set_free(rs);
    config_unref(cfg);
}

static void mismatch_table(void **state)
{
    static const struct { const char *decl, *truth; bool want; } t[] = {
        { "application/pdf", "application/pdf", false },
        { "application/pdf", "application/x-dosexec", true },
        { "image/png", "application/vnd.microsoft.portable-executable", true },
        { "application/octet-stream", "application/x-dosexec", false },
        { "", "application/x-dosexec", false },
        { "application/pdf", "text/plain", false },
        { "image/jpg", "image/jpeg", false },
        { "application/x-gzip", "application/gzip", false },
        { "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "application/zip", false },
        { "application/zip", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          false },
        { "application/msword", "application/CDFV2", false },
        { "application/msword", "application/zip", true },
        { "text/html", "text/x-c", false },
        { "application/zip", "application/x-rar", true },
    };

    (void) state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (arule_mismatch(t[i].decl, t[i].truth) != t[i].want)
            fail_msg("%s vs %s: want %d", t[i].decl, t[i].truth, t[i].want);
}

static void domains_match_with_subdomains_only_on_label_boundaries(void **state)
{
    const char *list[] = { "example.com", "b.example.org" };

    (void) state;
    assert_true(arule_domain_in("example.com", list, 2));
    assert_true(arule_domain_in("MX.Example.COM", list, 2));
    assert_false(arule_domain_in("badexample.com", list, 2));
    assert_false(arule_domain_in("example.org", list, 2));
    assert_true(arule_domain_in("a.b.example.org", list, 2));
    assert_false(arule_domain_in("", list, 2));
}

static arule_verdict_t verdict_of(arule_action_t a, bool hit)
{
    static arule_hit_t h;
    arule_verdict_t v = { ARULE_ALLOW, -1, NULL, 0 };

    if (hit) {
        h.action = a;
        v.action = a;
        v.decisive = 0;
        v.hits = &h;
        v.nhits = 1;
    }
    return v;
}

static void decision_weighs_rules_limits_and_suspect_mime(void **state)
{
    static const struct {
        arule_action_t rule; bool hit; unsigned flags; bool too_big;
        mact_t action; bool strip; const char *cause;
    } t[] = {
        { ARULE_ALLOW, false, 0, false, MACT_ACCEPT, false, "clean" },
        { ARULE_REJECT, true, 0, false, MACT_REJECT, false, "rule" },
        { ARULE_STRIP, true, 0, false, MACT_TAG, true, "rule" },
        { ARULE_QUARANTINE, true, 0, false, MACT_QUARANTINE, false, "rule" },
        { ARULE_TAG, true, 0, false, MACT_TAG, false, "rule" },
        { ARULE_ALLOW, false, AWALK_LIMIT, false, MACT_REJECT, false, "limit" },
        { ARULE_ALLOW, false, 0, true, MACT_REJECT, false, "limit" },
        { ARULE_STRIP, true, AWALK_SUSPECT, false, MACT_QUARANTINE, false, "suspect" },
        { ARULE_REJECT, true, AWALK_SUSPECT, false, MACT_REJECT, false, "rule" },
        { ARULE_ALLOW, false, AWALK_MALFORMED, false, MACT_ACCEPT, false, "clean" },
        { ARULE_ALLOW, false, AWALK_NOT_MIME, false, MACT_QUARANTINE, false, "suspect" },
    };
    adecide_conf_t c = { MACT_REJECT, MACT_QUARANTINE };

    (void) state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        arule_verdict_t v = verdict_of(t[i].rule, t[i].hit);
        adecision_t d;
        adecide(&c, t[i].flags, t[i].too_big, &v, &d);
        if (d.action != t[i].action || d.strip != t[i].strip || strcmp(d.cause, t[i].cause))
            fail_msg("case %zu: %s strip=%d %s", i, mact_name(d.action), d.strip, d.cause);
    }
}

static void safe_names_fit_a_reply(void **state)
{
    char out[ADECIDE_NAME_MAX + 4], longname[300];

    (void) state;
    assert_string_equal(adecide_safe_name("a\"b\\c\r\n\xC3\xA9.exe", out), "a_b_c????.exe");
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    adecide_safe_name(longname, out);
    assert_int_equal(strlen(out), ADECIDE_NAME_MAX + 3);
    assert_string_equal(out + ADECIDE_NAME_MAX, "...");
}

/* The [attach] part of the sample postern.conf, with its commented keys
 * and sections (";key", ";[section]") switched on. Caller frees. */
static char *sample_attach_part(void)
{
    char path[1024], line[512];
    FILE *f;
    size_t cap = 1 << 16, o = 0;
    char *out = calloc(1, cap);
    bool on = false;

    snprintf(path, sizeof(path), "%s/conf/postern.conf", getenv("POSTERN_SOURCE_DIR"));
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        on = on || strncmp(line, ";[attach]", 9) == 0 || strncmp(line, "[attach]", 8) == 0;
        if (!on || (line[0] == ';' && (line[1] == ' ' || line[1] == '\n')))
            continue;
        o += (size_t) snprintf(out + o, cap - o, "%s", line[0] == ';' ? line + 1 : line);
    }
    fclose(f);
    return out;
}

static void sample_rule_set_loads_and_blocks_programs(void **state)
{
    char *text = sample_attach_part(), err[256];
    config_t *cfg = load(text);
    arule_set_t *rs = arule_set_new(cfg, err, sizeof(err));
    awalk_item_t items[] = {
        part("invoice.pdf.exe", "application/pdf", "application/pdf", 10),
        part("scan.pdf", "application/pdf", "application/x-dosexec", 10),
        part("a\xE2\x80\xAE" "gpj.js", "image/jpeg", "text/plain", 10),
        part("report.pdf", "application/pdf", "application/pdf", 10),
    };
    arule_env_t env = { "example.net", NULL, 0, 100 };

    (void) state;
    assert_non_null(rs);
    assert_true(arule_set_count(rs) >= 5);
    for (size_t i = 0; i < 4; i++) {
        arule_verdict_t v;
        assert_int_equal(arule_eval(rs, &env, &items[i], 1, &v), 0);
        assert_int_equal(v.action, i < 3 ? ARULE_REJECT : ARULE_ALLOW);
        arule_verdict_free(&v);
    }
    arule_set_free(rs);
    config_unref(cfg);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_part_cases),
        cmocka_unit_test(most_severe_part_decides_and_every_hit_is_listed),
        cmocka_unit_test(bad_rules_are_refused),
        cmocka_unit_test(no_rules_allow_everything),
        cmocka_unit_test(mismatch_table),
        cmocka_unit_test(domains_match_with_subdomains_only_on_label_boundaries),
        cmocka_unit_test(decision_weighs_rules_limits_and_suspect_mime),
        cmocka_unit_test(safe_names_fit_a_reply),
        cmocka_unit_test(sample_rule_set_loads_and_blocks_programs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
