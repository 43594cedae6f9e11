/*
 * config.c - load the INI file with libinih and check every line against
 * the component key tables (confschema.c and each component's own).
 * The result is an immutable, reference-counted config_t.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "confvalue.h"

typedef struct value {
    const conf_key_t *key;
    int line;                   /* 0: default */
    bool present;               /* set or defaulted */
    char *text;
    long long num;              /* INT, BOOL, DURATION, SIZE, MODE */
    char **items;               /* LIST */
    size_t nitems;
} value_t;

typedef struct sect {
    const conf_section_t *schema;
    char *fullname;             /* "limit per-user" for named sections */
    bool in_file;
    value_t *values;
    size_t nvalues;
} sect_t;

typedef struct instances {
    const conf_section_t *schema;   /* a named section */
    const char **names;             /* instance names, in file order */
    size_t n;
} instances_t;

struct config {
    atomic_int refs;
    char *path;
    sect_t *sects;
    size_t nsects, cap;
    instances_t *named;             /* one per named schema */
    size_t nnamed;
};

typedef struct parse {
    config_t *cfg;
    const char *buf;
    size_t len, pos;
    int line;                   /* line the reader handed out last */
    bool indented;              /* that line started with a blank */
    int err_line;               /* 0: no error yet */
    bool others_ok;             /* skip sections not in the schema */
    char *err;
    size_t errlen;
} parse_t;

/* ---- building and freeing ---- */

static void value_clear(value_t *v)
{
    free(v->text);
    for (size_t i = 0; i < v->nitems; i++)
        free(v->items[i]);
    free(v->items);
    v->text = NULL;
    v->items = NULL;
    v->nitems = 0;
    v->present = false;
}

static void config_free(config_t *cfg)
{
    for (size_t s = 0; s < cfg->nsects; s++) {
        for (size_t i = 0; i < cfg->sects[s].nvalues; i++)
            value_clear(&cfg->sects[s].values[i]);
        free(cfg->sects[s].values);
        free(cfg->sects[s].fullname);
    }
    for (size_t i = 0; i < cfg->nnamed; i++)
        free(cfg->named[i].names);
    free(cfg->named);
    free(cfg->sects);
    free(cfg->path);
    free(cfg);
}

static size_t count_keys(const conf_section_t *schema)
{
    size_t n = 0;

    for (const conf_key_t *const *ks = schema->keysets; *ks != NULL; ks++)
        for (const conf_key_t *k = *ks; k->name != NULL; k++)
            n++;
    return n;
}

static int sect_init(sect_t *s, const conf_section_t *schema)
{
    size_t i = 0;

    s->schema = schema;
    s->nvalues = count_keys(schema);
    s->values = calloc(s->nvalues ? s->nvalues : 1, sizeof(value_t));
    if (s->values == NULL)
        return -1;
    for (const conf_key_t *const *ks = schema->keysets; *ks != NULL; ks++)
        for (const conf_key_t *k = *ks; k->name != NULL; k++)
            s->values[i++].key = k;
    return 0;
}

/* Named sections ("[limit NAME]") get a sect_t per instance in the
 * file; plain ones exist from the start. */
static config_t *config_alloc(const char *name, const conf_section_t *const *sections)
{
    config_t *cfg = calloc(1, sizeof(*cfg));
    size_t n = 0;

    if (cfg == NULL)
        return NULL;
    while (sections[n] != NULL)
        n++;
    atomic_init(&cfg->refs, 1);
    cfg->path = strdup(name);
    cfg->cap = n + 4;
    cfg->sects = calloc(cfg->cap, sizeof(sect_t));
    cfg->named = calloc(n ? n : 1, sizeof(instances_t));
    if (cfg->path == NULL || cfg->sects == NULL || cfg->named == NULL) {
        config_free(cfg);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (sections[i]->named) {
            cfg->named[cfg->nnamed++].schema = sections[i];
        } else if (sect_init(&cfg->sects[cfg->nsects++], sections[i]) < 0) {
            config_free(cfg);
            return NULL;
        }
    }
    return cfg;
}

/* ---- lookup ---- */

static const char *sect_name(const sect_t *s)
{
    return s->fullname ? s->fullname : s->schema->name;
}

static sect_t *find_sect(const config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nsects; i++)
        if (strcmp(sect_name(&cfg->sects[i]), name) == 0)
            return &cfg->sects[i];
    return NULL;
}

static instances_t *find_named(const config_t *cfg, const char *name, size_t len)
{
    for (size_t i = 0; i < cfg->nnamed; i++)
        if (strlen(cfg->named[i].schema->name) == len
            && strncmp(cfg->named[i].schema->name, name, len) == 0)
            return &cfg->named[i];
    return NULL;
}

static value_t *find_value(const sect_t *s, const char *key)
{
    for (size_t i = 0; i < s->nvalues; i++)
        if (strcmp(s->values[i].key->name, key) == 0)
            return &s->values[i];
    return NULL;
}

static const value_t *lookup(const config_t *cfg, const char *section,
                             const char *key)
{
    const sect_t *s = cfg ? find_sect(cfg, section) : NULL;
    const value_t *v = s ? find_value(s, key) : NULL;

    return v != NULL && v->present ? v : NULL;
}

/* ---- errors ---- */

static void set_error(parse_t *p, int line, const char *section,
                      const char *key, const char *why)
{
    if (p->err_line != 0 && p->err_line <= line)
        return;                 /* the first error in the file wins */
    p->err_line = line;
    if (section != NULL && key != NULL)
        snprintf(p->err, p->errlen, "%s:%d: [%s] %s: %s", p->cfg->path, line,
                 section, key, why);
    else if (section != NULL)
        snprintf(p->err, p->errlen, "%s:%d: [%s]: %s", p->cfg->path, line,
                 section, why);
    else
        snprintf(p->err, p->errlen, "%s:%d: %s", p->cfg->path, line, why);
}

/* ---- values ---- */

static int value_set(value_t *v, const char *text, char *why, size_t whylen)
{
    value_t nv = *v;

    nv.text = NULL;
    nv.items = NULL;
    nv.nitems = 0;
    if (confvalue_parse(v->key, text, &nv.text, &nv.num, &nv.items,
                        &nv.nitems, why, whylen) < 0)
        return -1;
    value_clear(v);
    *v = nv;
    v->present = true;
    return 0;
}

static int sect_defaults(sect_t *s, char *err, size_t errlen)
{
    char why[256];

    for (size_t i = 0; i < s->nvalues; i++) {
        value_t *v = &s->values[i];
        if (v->key->def == NULL)
            continue;
        if (value_set(v, v->key->def, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "built-in default of [%s] %s: %s",
                     s->schema->name, v->key->name, why);
            return -1;
        }
    }
    return 0;
}

static int apply_defaults(config_t *cfg, char *err, size_t errlen)
{
    for (size_t s = 0; s < cfg->nsects; s++)
        if (sect_defaults(&cfg->sects[s], err, errlen) < 0)
            return -1;
    return 0;
}

/* ---- the reader: one line at a time, counting lines ---- */

static bool is_instance_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* "[limit per-user]": a new instance of the named section "limit". */
static sect_t *add_instance(parse_t *p, const char *name)
{
    config_t *cfg = p->cfg;
    const char *space = strchr(name, ' ');
    instances_t *in = find_named(cfg, name, space ? (size_t) (space - name) : strlen(name));
    char why[160];
    sect_t *s;

    if (in == NULL || space == NULL || !is_instance_name(space + 1)) {
        if (in != NULL)
            snprintf(why, sizeof(why), "section [%.40s] needs a name of letters, digits,"
                     " '-', '_' or '.': [%s NAME]", name, in->schema->name);
        else
            snprintf(why, sizeof(why), "unknown section [%.64s]", name);
        set_error(p, p->line, NULL, NULL, why);
        return NULL;
    }
    if (cfg->nsects == cfg->cap) {
        sect_t *v = realloc(cfg->sects, cfg->cap * 2 * sizeof(sect_t));
        if (v == NULL)
            goto nomem;
        cfg->sects = v;
        cfg->cap *= 2;
    }
    const char **names = realloc(in->names, (in->n + 1) * sizeof(char *));
    if (names == NULL)
        goto nomem;
    in->names = names;
    s = &cfg->sects[cfg->nsects];
    memset(s, 0, sizeof(*s));
    if (sect_init(s, in->schema) < 0 || (s->fullname = strdup(name)) == NULL) {
        free(s->values);
        goto nomem;
    }
    cfg->nsects++;
    if (sect_defaults(s, p->err, p->errlen) < 0) {
        set_error(p, p->line, NULL, NULL, "bad built-in default");
        return NULL;
    }
    in->names[in->n++] = s->fullname + (space - name) + 1;
    return s;
nomem:
    set_error(p, p->line, NULL, NULL, "out of memory");
    return NULL;
}

/* A "[name]" line: check the section is known here, where we know the
 * line number even for a section that has no keys. */
static void see_section_line(parse_t *p, const char *line, size_t n)
{
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
        n--;
    while (n > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    if (n < 2 || line[0] != '[')
        return;
    const char *end = memchr(line, ']', n);
    if (end == NULL)
        return;                 /* inih reports the syntax error */
    char name[64];
    size_t len = (size_t) (end - line - 1);
    if (len >= sizeof(name)) {
        set_error(p, p->line, NULL, NULL, "section name too long");
        return;
    }
    memcpy(name, line + 1, len);
    name[len] = '\0';
    sect_t *s = find_sect(p->cfg, name);
    if (s == NULL && p->others_ok) {
        /* Another component's section: skipped, unless it names one of
         * our named sections ("[limit x]"), which must be right. */
        const char *space = strchr(name, ' ');
        if (find_named(p->cfg, name, space ? (size_t) (space - name) : len) == NULL)
            return;
    }
    if (s == NULL)
        s = add_instance(p, name);
    if (s != NULL)
        s->in_file = true;
}

static char *reader(char *str, int num, void *stream)
{
    parse_t *p = stream;
    const char *start, *nl;
    size_t n, take;

    if (p->pos >= p->len)
        return NULL;
    start = p->buf + p->pos;
    nl = memchr(start, '\n', p->len - p->pos);
    n = nl ? (size_t) (nl - start) + 1 : p->len - p->pos;
    p->pos += n;
    p->line++;
    p->indented = n > 0 && (start[0] == ' ' || start[0] == '\t');
    take = n;
    if (take > (size_t) num - 1) {
        /* inih would parse the rest of the line as a new line. */
        char why[96];
        snprintf(why, sizeof(why), "line longer than %d characters",
                 CONF_MAX_LINE - 1);
        set_error(p, p->line, NULL, NULL, why);
        take = 0;               /* hand inih an empty line */
    } else {
        see_section_line(p, start, n);
    }
    memcpy(str, start, take);
    str[take] = '\0';
    return str;
}

/* ---- the handler: one "key = value" ---- */

static int handler(void *user, const char *section, const char *name,
                   const char *text)
{
    parse_t *p = user;
    sect_t *s;
    value_t *v;
    char why[256];

    if (*section == '\0') {
        set_error(p, p->line, NULL, NULL, "key outside any [section]");
        return 1;
    }
    if ((s = find_sect(p->cfg, section)) == NULL)
        return 1;               /* reported at the [section] line */
    if ((v = find_value(s, name)) == NULL) {
        set_error(p, p->line, section, name, "unknown key");
        return 1;
    }
    if (v->line != 0) {
        snprintf(why, sizeof(why), p->indented
                 ? "continuation lines are not allowed (indented line after line %d)"
                 : "duplicate key (first set on line %d)", v->line);
        set_error(p, p->line, section, name, why);
        return 1;
    }
    if (value_set(v, text, why, sizeof(why)) < 0) {
        set_error(p, p->line, section, name, why);
        return 1;
    }
    v->line = p->line;
    return 1;
}

static config_t *parse_buffer(const char *name, const char *buf, size_t len,
                              const conf_section_t *const *sections, bool others_ok,
                              char *err, size_t errlen)
{
    parse_t p = { .others_ok = others_ok };
    int rc;

    if ((p.cfg = config_alloc(name, sections)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    if (apply_defaults(p.cfg, err, errlen) < 0) {
        config_free(p.cfg);
        return NULL;
    }
    p.buf = buf;
    p.len = len;
    p.err = err;
    p.errlen = errlen;
    rc = ini_parse_stream(reader, &p, handler, &p);
    if (rc > 0)
        set_error(&p, rc, NULL, NULL,
                  "syntax error (expected \"key = value\" or \"[section]\")");
    else if (rc < 0)
        set_error(&p, 1, NULL, NULL, "out of memory");
    if (p.err_line != 0) {
        config_free(p.cfg);
        return NULL;
    }
    return p.cfg;
}

config_t *config_load_string(const char *name, const char *text,
                             const conf_section_t *const *sections,
                             char *err, size_t errlen)
{
    return parse_buffer(name, text, strlen(text), sections, false, err, errlen);
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;
    ssize_t n;

    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > CONF_MAX_FILE) {
        snprintf(err, errlen, "%s: not a regular file of at most %d bytes",
                 path, CONF_MAX_FILE);
        goto out;
    }
    if ((buf = malloc((size_t) st.st_size + 1)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    *len = 0;
    while (*len < (size_t) st.st_size
           && (n = read(fd, buf + *len, (size_t) st.st_size - *len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(buf);
            buf = NULL;
            goto out;
        }
        *len += (size_t) n;
    }
    buf[*len] = '\0';
out:
    if (fd >= 0)
        close(fd);
    return buf;
}

static config_t *load(const char *path, const conf_section_t *const *sections,
                       bool others_ok, char *err, size_t errlen)
{
    size_t len = 0;
    char *buf = read_file(path, &len, err, errlen);
    config_t *cfg;
    const char *nul;

    if (buf == NULL)
        return NULL;
    if ((nul = memchr(buf, '\0', len)) != NULL) {
        int line = 1;
        for (const char *c = buf; c < nul; c++)
            line += *c == '\n';
        snprintf(err, errlen, "%s:%d: contains a NUL byte", path, line);
        free(buf);
        return NULL;
    }
    cfg = parse_buffer(path, buf, len, sections, others_ok, err, errlen);
    free(buf);
    return cfg;
}

config_t *config_load(const char *path, const conf_section_t *const *sections,
                      char *err, size_t errlen)
{
    return load(path, sections, false, err, errlen);
}

config_t *config_load_shared(const char *path, const conf_section_t *const *sections,
                             char *err, size_t errlen)
{
    return load(path, sections, true, err, errlen);
}

/* ---- references and getters ---- */

config_t *config_ref(config_t *cfg)
{
    atomic_fetch_add(&cfg->refs, 1);
    return cfg;
}

void config_unref(config_t *cfg)
{
    if (cfg != NULL && atomic_fetch_sub(&cfg->refs, 1) == 1)
        config_free(cfg);
}

const char *config_path(const config_t *cfg)
{
    return cfg->path;
}

bool config_has_section(const config_t *cfg, const char *section)
{
    const sect_t *s = find_sect(cfg, section);

    return s != NULL && s->in_file;
}

bool config_is_set(const config_t *cfg, const char *section, const char *key)
{
    return config_line(cfg, section, key) != 0;
}

int config_line(const config_t *cfg, const char *section, const char *key)
{
    const sect_t *s = find_sect(cfg, section);
    const value_t *v = s ? find_value(s, key) : NULL;

    return v ? v->line : 0;
}

const char *config_str(const config_t *cfg, const char *section, const char *key)
{
    const value_t *v = lookup(cfg, section, key);

    return v ? v->text : NULL;
}

long long config_int(const config_t *cfg, const char *section, const char *key)
{
    const value_t *v = lookup(cfg, section, key);

    return v ? v->num : 0;
}

bool config_bool(const config_t *cfg, const char *section, const char *key)
{
    return config_int(cfg, section, key) != 0;
}

long long config_duration_ms(const config_t *cfg, const char *section,
                             const char *key)
{
    return config_int(cfg, section, key);
}

unsigned long long config_size(const config_t *cfg, const char *section,
                               const char *key)
{
    return (unsigned long long) config_int(cfg, section, key);
}

unsigned config_mode(const config_t *cfg, const char *section, const char *key)
{
    return (unsigned) config_int(cfg, section, key);
}

size_t config_list(const config_t *cfg, const char *section, const char *key,
                   const char *const **items)
{
    const value_t *v = lookup(cfg, section, key);

    *items = v ? (const char *const *) v->items : NULL;
    return v ? v->nitems : 0;
}

size_t config_instances(const config_t *cfg, const char *section,
                        const char *const **names)
{
    const instances_t *in = find_named(cfg, section, strlen(section));

    *names = in ? in->names : NULL;
    return in ? in->n : 0;
}
