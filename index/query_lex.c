/* Query lexer: splits a fleet indexing query into tokens (see index/query.h). Words keep their
 * backslash escapes raw; the parser decodes them where it knows what a word means. */
#include <string.h>

#include "index/query.h"

/* Characters that end an unquoted word. */
static bool is_special(char c)
{
    return strchr(" \t\r\n()[]{}:\"<>", c) != NULL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void fy_qlex_init(struct fy_qlexer *lx, const char *src, size_t len)
{
    lx->src = src;
    lx->len = len;
    lx->at = 0;
    lx->prev = FY_QT_EOF;
}

static struct fy_qtoken tok(struct fy_qlexer *lx, enum fy_qtok type, size_t pos, size_t len)
{
    struct fy_qtoken t = {type, pos, len, lx->src + pos};
    lx->prev = type;
    return t;
}

/* "quoted text" with \" and \\ escapes; the token text excludes the quotes. */
static struct fy_qtoken lex_phrase(struct fy_qlexer *lx)
{
    size_t start = lx->at++;
    while (lx->at < lx->len && lx->src[lx->at] != '"') {
        lx->at += lx->src[lx->at] == '\\' && lx->at + 1 < lx->len ? 2 : 1;
    }
    if (lx->at >= lx->len) {
        return tok(lx, FY_QT_ERROR, start, 0);
    }
    lx->at++;
    struct fy_qtoken t = tok(lx, FY_QT_PHRASE, start, lx->at - start - 2);
    t.text = lx->src + start + 1;
    return t;
}

static enum fy_qtok keyword(const char *s, size_t n)
{
    if (n == 3 && memcmp(s, "AND", 3) == 0) {
        return FY_QT_AND;
    }
    if (n == 2 && memcmp(s, "OR", 2) == 0) {
        return FY_QT_OR;
    }
    if (n == 3 && memcmp(s, "NOT", 3) == 0) {
        return FY_QT_NOT;
    }
    if (n == 2 && memcmp(s, "TO", 2) == 0) {
        return FY_QT_TO;
    }
    return FY_QT_WORD;
}

static struct fy_qtoken lex_word(struct fy_qlexer *lx)
{
    size_t start = lx->at;
    while (lx->at < lx->len && !is_special(lx->src[lx->at])) {
        if (lx->src[lx->at] == '\\') {
            if (lx->at + 1 >= lx->len) {
                return tok(lx, FY_QT_ERROR, lx->at, 0);
            }
            lx->at++;
        }
        lx->at++;
    }
    return tok(lx, keyword(lx->src + start, lx->at - start), start, lx->at - start);
}

/* '-' excludes the next term unless it starts a value (after ':', a comparison, '[', '{' or
 * TO) or stands alone. */
static bool minus_is_operator(const struct fy_qlexer *lx)
{
    enum fy_qtok p = lx->prev;
    bool value_pos = p == FY_QT_COLON || p == FY_QT_GT || p == FY_QT_GE || p == FY_QT_LT ||
                     p == FY_QT_LE || p == FY_QT_LBRACKET || p == FY_QT_LBRACE || p == FY_QT_TO;
    return !value_pos && lx->at + 1 < lx->len && !is_space(lx->src[lx->at + 1]);
}

static struct fy_qtoken lex_compare(struct fy_qlexer *lx, char c)
{
    size_t start = lx->at++;
    if (lx->at < lx->len && lx->src[lx->at] == '=') {
        lx->at++;
        return tok(lx, c == '>' ? FY_QT_GE : FY_QT_LE, start, 0);
    }
    return tok(lx, c == '>' ? FY_QT_GT : FY_QT_LT, start, 0);
}

static const struct {
    char c;
    enum fy_qtok type;
} punct[] = {
    {'(', FY_QT_LPAREN}, {')', FY_QT_RPAREN}, {'[', FY_QT_LBRACKET}, {']', FY_QT_RBRACKET},
    {'{', FY_QT_LBRACE}, {'}', FY_QT_RBRACE}, {':', FY_QT_COLON},
};

struct fy_qtoken fy_qlex_next(struct fy_qlexer *lx)
{
    while (lx->at < lx->len && is_space(lx->src[lx->at])) {
        lx->at++;
    }
    if (lx->at >= lx->len) {
        return tok(lx, FY_QT_EOF, lx->at, 0);
    }
    char c = lx->src[lx->at];
    for (size_t i = 0; i < sizeof(punct) / sizeof(punct[0]); i++) {
        if (punct[i].c == c) {
            return tok(lx, punct[i].type, lx->at++, 0);
        }
    }
    if (c == '"') {
        return lex_phrase(lx);
    }
    if (c == '<' || c == '>') {
        return lex_compare(lx, c);
    }
    if (c == '-' && minus_is_operator(lx)) {
        return tok(lx, FY_QT_MINUS, lx->at++, 0);
    }
    return lex_word(lx);
}
