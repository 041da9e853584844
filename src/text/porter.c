/* Porter stemmer: M.F. Porter, "An algorithm for suffix stripping",
 * Program 14(3), 1980, pp. 130-137. Follows the paper's rules (step 2 has
 * ABLI -> ABLE, and no LOGI rule, unlike the later "reference" C version),
 * structured like Porter's own ANSI C implementation: the word is b[0..k],
 * j marks the end of the stem matched by the last successful ends().
 *
 * Definitions from the paper: a consonant is a letter other than a e i o u,
 * and other than y preceded by a consonant. Any word is [C](VC)^m[V]; m()
 * measures the stem b[0..j]. */
#include <string.h>
#include "seqnn/text.h"

typedef struct stemmer {
    char *b;
    int k; /* end of the word (inclusive) */
    int j; /* end of the stem (inclusive) */
} stemmer;

/* 1 if b[i] is a consonant. */
static int cons(const stemmer *z, int i) {
    switch (z->b[i]) {
    case 'a': case 'e': case 'i': case 'o': case 'u': return 0;
    case 'y': return i == 0 ? 1 : !cons(z, i - 1);
    default: return 1;
    }
}

/* m, the number of VC sequences in b[0..j]. */
static int measure(const stemmer *z) {
    int n = 0, i = 0;
    for (;;) {
        if (i > z->j) return n;
        if (!cons(z, i)) break;
        i++;
    }
    i++;
    for (;;) {
        for (;;) {
            if (i > z->j) return n;
            if (cons(z, i)) break;
            i++;
        }
        i++;
        n++;
        for (;;) {
            if (i > z->j) return n;
            if (!cons(z, i)) break;
            i++;
        }
        i++;
    }
}

/* *v*: the stem b[0..j] contains a vowel. */
static int vowel_in_stem(const stemmer *z) {
    for (int i = 0; i <= z->j; i++)
        if (!cons(z, i)) return 1;
    return 0;
}

/* *d: b[i-1..i] is a double consonant. */
static int double_c(const stemmer *z, int i) {
    return i >= 1 && z->b[i] == z->b[i - 1] && cons(z, i);
}

/* *o: b[i-2..i] is consonant-vowel-consonant and the last is not w, x, y. */
static int cvc(const stemmer *z, int i) {
    if (i < 2 || !cons(z, i) || cons(z, i - 1) || !cons(z, i - 2)) return 0;
    char c = z->b[i];
    return !(c == 'w' || c == 'x' || c == 'y');
}

/* b[0..k] ends with s; sets j to the stem end on success. */
static int ends(stemmer *z, const char *s) {
    int l = (int)strlen(s);
    if (l > z->k + 1) return 0;
    if (memcmp(z->b + z->k - l + 1, s, (size_t)l) != 0) return 0;
    z->j = z->k - l;
    return 1;
}

/* Replaces b[j+1..k] by s. Never grows past the original word: every
 * replacement in the rules is at most as long as the suffix it replaces,
 * except step 1b's "at"->"ate" etc., which follow a removed "ed"/"ing". */
static void set_to(stemmer *z, const char *s) {
    int l = (int)strlen(s);
    memmove(z->b + z->j + 1, s, (size_t)l);
    z->k = z->j + l;
}

static void r(stemmer *z, const char *s) {
    if (measure(z) > 0) set_to(z, s);
}

/* Step 1a: plurals; step 1b: -ed, -ing. */
static void step1ab(stemmer *z) {
    char *b = z->b;
    if (b[z->k] == 's') {
        if (ends(z, "sses")) z->k -= 2;
        else if (ends(z, "ies")) set_to(z, "i");
        else if (b[z->k - 1] != 's') z->k--;
    }
    if (ends(z, "eed")) {
        if (measure(z) > 0) z->k--;
    } else if ((ends(z, "ed") || ends(z, "ing")) && vowel_in_stem(z)) {
        z->k = z->j;
        if (ends(z, "at")) set_to(z, "ate");
        else if (ends(z, "bl")) set_to(z, "ble");
        else if (ends(z, "iz")) set_to(z, "ize");
        else if (double_c(z, z->k)) {
            z->k--;
            char c = b[z->k];
            if (c == 'l' || c == 's' || c == 'z') z->k++;
        } else if (measure(z) == 1 && cvc(z, z->k)) {
            set_to(z, "e");
        }
    }
}

/* Step 1c: y -> i when the stem has a vowel. */
static void step1c(stemmer *z) {
    if (ends(z, "y") && vowel_in_stem(z)) z->b[z->k] = 'i';
}

/* Step 2: double suffixes to single ones, when m > 0. */
static void step2(stemmer *z) {
    if (z->k < 1) return;
    switch (z->b[z->k - 1]) {
    case 'a':
        if (ends(z, "ational")) { r(z, "ate"); break; }
        if (ends(z, "tional")) { r(z, "tion"); break; }
        break;
    case 'c':
        if (ends(z, "enci")) { r(z, "ence"); break; }
        if (ends(z, "anci")) { r(z, "ance"); break; }
        break;
    case 'e':
        if (ends(z, "izer")) { r(z, "ize"); break; }
        break;
    case 'l':
        if (ends(z, "abli")) { r(z, "able"); break; }
        if (ends(z, "alli")) { r(z, "al"); break; }
        if (ends(z, "entli")) { r(z, "ent"); break; }
        if (ends(z, "eli")) { r(z, "e"); break; }
        if (ends(z, "ousli")) { r(z, "ous"); break; }
        break;
    case 'o':
        if (ends(z, "ization")) { r(z, "ize"); break; }
        if (ends(z, "ation")) { r(z, "ate"); break; }
        if (ends(z, "ator")) { r(z, "ate"); break; }
        break;
    case 's':
        if (ends(z, "alism")) { r(z, "al"); break; }
        if (ends(z, "iveness")) { r(z, "ive"); break; }
        if (ends(z, "fulness")) { r(z, "ful"); break; }
        if (ends(z, "ousness")) { r(z, "ous"); break; }
        break;
    case 't':
        if (ends(z, "aliti")) { r(z, "al"); break; }
        if (ends(z, "iviti")) { r(z, "ive"); break; }
        if (ends(z, "biliti")) { r(z, "ble"); break; }
        break;
    default: break;
    }
}

/* Step 3: -ic-, -full, -ness etc., when m > 0. */
static void step3(stemmer *z) {
    switch (z->b[z->k]) {
    case 'e':
        if (ends(z, "icate")) { r(z, "ic"); break; }
        if (ends(z, "ative")) { r(z, ""); break; }
        if (ends(z, "alize")) { r(z, "al"); break; }
        break;
    case 'i':
        if (ends(z, "iciti")) { r(z, "ic"); break; }
        break;
    case 'l':
        if (ends(z, "ical")) { r(z, "ic"); break; }
        if (ends(z, "ful")) { r(z, ""); break; }
        break;
    case 's':
        if (ends(z, "ness")) { r(z, ""); break; }
        break;
    default: break;
    }
}

/* Step 4: removes -ant, -ence etc. when m > 1. */
static void step4(stemmer *z) {
    if (z->k < 1) return;
    switch (z->b[z->k - 1]) {
    case 'a':
        if (ends(z, "al")) break;
        return;
    case 'c':
        if (ends(z, "ance")) break;
        if (ends(z, "ence")) break;
        return;
    case 'e':
        if (ends(z, "er")) break;
        return;
    case 'i':
        if (ends(z, "ic")) break;
        return;
    case 'l':
        if (ends(z, "able")) break;
        if (ends(z, "ible")) break;
        return;
    case 'n':
        if (ends(z, "ant")) break;
        if (ends(z, "ement")) break;
        if (ends(z, "ment")) break;
        if (ends(z, "ent")) break;
        return;
    case 'o':
        if (ends(z, "ion") && z->j >= 0 && (z->b[z->j] == 's' || z->b[z->j] == 't')) break;
        if (ends(z, "ou")) break;
        return;
    case 's':
        if (ends(z, "ism")) break;
        return;
    case 't':
        if (ends(z, "ate")) break;
        if (ends(z, "iti")) break;
        return;
    case 'u':
        if (ends(z, "ous")) break;
        return;
    case 'v':
        if (ends(z, "ive")) break;
        return;
    case 'z':
        if (ends(z, "ize")) break;
        return;
    default: return;
    }
    if (measure(z) > 1) z->k = z->j;
}

/* Step 5: removes a final -e when m > 1 (or m = 1 and not *o), and -ll -> -l when m > 1. */
static void step5(stemmer *z) {
    z->j = z->k;
    if (z->b[z->k] == 'e') {
        int a = measure(z);
        if (a > 1 || (a == 1 && !cvc(z, z->k - 1))) z->k--;
    }
    if (z->b[z->k] == 'l' && double_c(z, z->k)) {
        z->j = z->k;
        if (measure(z) > 1) z->k--;
    }
}

size_t sn_porter_stem(char *w, size_t len) {
    if (len <= 2 || len > (1u << 20)) return len;
    stemmer z = {w, (int)len - 1, 0};
    z.j = z.k;
    step1ab(&z);
    if (z.k > 0) {
        step1c(&z);
        step2(&z);
        step3(&z);
        step4(&z);
        step5(&z);
    }
    return (size_t)z.k + 1;
}
