/*
 * spf_conformance.c - runs the openspf RFC 7208 test suite through the
 * SPF evaluation the milter uses (spf_eval), with each scenario's zone
 * data served by the in-memory DNS source (spf_zone).
 *
 *   spf_conformance [-l] SUITE.json [MIN_PASS_FILE]
 *
 * SUITE.json is the YAML suite turned into JSON (spf_yaml2json.py; "-"
 * reads stdin). Prints every failing test, then "N passed, N failed".
 * Exits 1 when the passes fall below the number in MIN_PASS_FILE, so
 * the count can only go up. -l measures Debian's libspf2 instead, on
 * the same zone data (spf_libspf2.h), and prints "libspf2: N passed,
 * N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "spf_eval.h"
#include "spf_libspf2.h"
#include "spf_zone.h"

typedef struct tally {
    unsigned pass, fail;
} tally_t;

static int use_libspf2;

/* One record of the zone data: {"TYPE": value} or "TIMEOUT". */
static int add_record(spf_zone_t *z, const char *name, json_t *rec)
{
    const char *type;
    json_t *val;
    spf_zone_kind_t kind;

    if (json_is_string(rec) && strcmp(json_string_value(rec), "TIMEOUT") == 0)
        return spf_zone_add(z, name, SPF_ZONE_TIMEOUT, NULL, 0);
    if (!json_is_object(rec) || json_object_size(rec) != 1)
        return -1;
    json_object_foreach(rec, type, val) {
        if (spf_zone_kind(type, &kind) < 0)
            return -1;
        if (json_is_string(val)) {
            const char *s = json_string_value(val);
            if ((kind == SPF_ZONE_TXT || kind == SPF_ZONE_SPF) && strcmp(s, "NONE") == 0)
                /* "TXT: NONE": the name exists without a TXT record; "SPF:
                 * NONE": it exists, nothing more */
                return spf_zone_add(z, name, kind == SPF_ZONE_TXT ? SPF_ZONE_TXT_NONE
                                                               : SPF_ZONE_NONE, NULL, 0);
            return spf_zone_add(z, name, kind, s, json_string_length(val));
        }
        if (json_is_array(val) && kind == SPF_ZONE_MX && json_array_size(val) == 2) {
            json_t *host = json_array_get(val, 1);
            return json_is_string(host) ? spf_zone_add(z, name, kind, json_string_value(host),
                                                       json_string_length(host)) : -1;
        }
        if (json_is_array(val)) {   /* one TXT record of several strings */
            char buf[8192];
            size_t off = 0, i;
            json_t *part;
            json_array_foreach(val, i, part) {
                size_t n = json_string_length(part);
                if (!json_is_string(part) || off + n >= sizeof(buf))
                    return -1;
                memcpy(buf + off, json_string_value(part), n);
                off += n;
            }
            return spf_zone_add(z, name, kind, buf, off);
        }
        return -1;
    }
    return -1;
}

static spf_zone_t *build_zone(json_t *zonedata)
{
    spf_zone_t *z = spf_zone_new();
    const char *name;
    json_t *recs, *rec;
    size_t i;

    if (z == NULL)
        return NULL;
    json_object_foreach(zonedata, name, recs) {
        json_array_foreach(recs, i, rec) {
            if (add_record(z, name, rec) < 0) {
                fprintf(stderr, "zone %s: record %zu not understood\n", name, i);
                spf_zone_free(z);
                return NULL;
            }
        }
    }
    return z;
}

/* Whether GOT is the expected result (a string or a list of them). */
static int result_ok(json_t *want, const char *got)
{
    size_t i;
    json_t *w;

    if (json_is_string(want))
        return strcasecmp(json_string_value(want), got) == 0;
    json_array_foreach(want, i, w)
        if (json_is_string(w) && strcasecmp(json_string_value(w), got) == 0)
            return 1;
    return 0;
}

static void expected_text(json_t *want, char *buf, size_t len)
{
    char *s = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);

    snprintf(buf, len, "%s", s ? s : "?");
    free(s);
}

static const char *str_or(json_t *obj, const char *key, const char *def)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : def;
}

/* The same test through libspf2: its result name into V's fields. */
static const char *run_libspf2(const spf_dns_source_t *src, json_t *t, spf_verdict_t *v)
{
    static char got[32];

    memset(v, 0, sizeof(*v));
    if (spf_libspf2_check(src, 1, str_or(t, "host", ""), str_or(t, "helo", ""),
                          str_or(t, "mailfrom", ""), got, sizeof(got), v->explanation,
                          sizeof(v->explanation)) < 0)
        snprintf(got, sizeof(got), "(libspf2 failed)");
    if (spf_result_parse(got, &v->result) < 0)
        v->result = SPF_RESULT_COUNT;   /* matches nothing */
    return got;
}

static void run_test(const spf_eval_t *ev, const spf_dns_source_t *src, const char *scenario,
                     const char *name, json_t *t, tally_t *tally)
{
    spf_verdict_t v;
    const char *want_exp = str_or(t, "explanation", NULL);
    const char *got;
    char want[256];
    int ok;

    if (use_libspf2)
        got = run_libspf2(src, t, &v);
    else {
        spf_eval_mailfrom(ev, str_or(t, "host", ""), str_or(t, "helo", ""),
                          str_or(t, "mailfrom", ""), &v);
        got = spf_result_name(v.result);
    }
    ok = result_ok(json_object_get(t, "result"), got);
    /* "DEFAULT" stands for whatever default explanation the
     * implementation gives; only explicit texts are compared. */
    if (ok && want_exp != NULL && strcmp(want_exp, "DEFAULT") != 0
        && v.result == SPF_RESULT_FAIL && strcmp(want_exp, v.explanation) != 0)
        ok = 0;
    if (ok) {
        tally->pass++;
        return;
    }
    tally->fail++;
    expected_text(json_object_get(t, "result"), want, sizeof(want));
    printf("FAIL %s / %s: expected %s%s%s, got %s%s%s%s%s (%s)\n", scenario, name, want,
           want_exp ? " explanation=" : "", want_exp ? want_exp : "", got,
           v.explanation[0] ? " explanation=" : "", v.explanation,
           v.mechanism[0] ? " mechanism=" : "", v.mechanism, v.reason);
}

static int run_scenario(json_t *sc, tally_t *tally)
{
    const char *desc = str_or(sc, "description", "?");
    json_t *tests = json_object_get(sc, "tests");
    spf_zone_t *z = build_zone(json_object_get(sc, "zonedata"));
    spf_eval_opts_t o = { .receiver = "receiver.example.com" };
    spf_dns_source_t src;
    spf_eval_t *ev;
    const char *name;
    json_t *t;
    char err[256];

    if (z == NULL)
        return -1;
    spf_zone_source(z, &src);
    if ((ev = spf_eval_new(&o, &src, err, sizeof(err))) == NULL) {
        fprintf(stderr, "%s\n", err);
        spf_zone_free(z);
        return -1;
    }
    json_object_foreach(tests, name, t)
        run_test(ev, &src, desc, name, t, tally);
    spf_eval_free(ev);
    spf_zone_free(z);
    return 0;
}

static long read_min(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = -1;

    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld", &n) != 1)
        n = -1;
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    json_error_t jerr;
    json_t *suite, *sc;
    tally_t tally = { 0, 0 };
    long min = 0;
    size_t i;

    if (argc > 1 && strcmp(argv[1], "-l") == 0) {
        use_libspf2 = 1;
        argc--;
        argv++;
    }
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: spf_conformance [-l] SUITE.json [MIN_PASS_FILE]\n");
        return 2;
    }
    suite = strcmp(argv[1], "-") == 0 ? json_loadf(stdin, JSON_ALLOW_NUL, &jerr)
                                      : json_load_file(argv[1], JSON_ALLOW_NUL, &jerr);
    if (!json_is_array(suite)) {
        fprintf(stderr, "%s: %s\n", argv[1], jerr.text);
        return 2;
    }
    if (argc == 3 && (min = read_min(argv[2])) < 0) {
        fprintf(stderr, "%s: no number\n", argv[2]);
        return 2;
    }
    json_array_foreach(suite, i, sc)
        if (run_scenario(sc, &tally) < 0)
            return 2;
    json_decref(suite);
    printf("%s%u passed, %u failed\n", use_libspf2 ? "libspf2: " : "", tally.pass, tally.fail);
    if ((long) tally.pass < min) {
        printf("below the recorded minimum of %ld passes\n", min);
        return 1;
    }
    return 0;
}
