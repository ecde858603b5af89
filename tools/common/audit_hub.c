/* Hub checkpoints against a ledger: FORMAT §7.5, §9.1, §9.2 and
 * spec/SECURITY.md §8.5. */
#include "audit_hub.h"

#include <stdlib.h>
#include <string.h>

static void node(const uint8_t *l, const uint8_t *r, uint8_t *out)
{
    uint8_t in[1 + 2 * SWLOG_HASH_BYTES];
    in[0] = 0x01;
    memcpy(in + 1, l, SWLOG_HASH_BYTES);
    memcpy(in + 1 + SWLOG_HASH_BYTES, r, SWLOG_HASH_BYTES);
    swlog_sha256(in, sizeof in, out);
}

void audit_mtree_init(audit_mtree *t)
{
    memset(t, 0, sizeof *t);
}

void audit_mtree_add(audit_mtree *t, const uint8_t leaf[SWLOG_HASH_BYTES])
{
    uint8_t in[1 + SWLOG_HASH_BYTES];
    in[0] = 0x00;
    memcpy(in + 1, leaf, SWLOG_HASH_BYTES);
    swlog_sha256(in, sizeof in, t->h[t->n]);
    t->height[t->n++] = 0;
    /* Two perfect subtrees of one height make one of the next: at most
     * one per bit of count, so 64 entries always suffice. */
    while (t->n >= 2 && t->height[t->n - 1] == t->height[t->n - 2]) {
        node(t->h[t->n - 2], t->h[t->n - 1], t->h[t->n - 2]);
        t->height[t->n - 2]++;
        t->n--;
    }
    t->count++;
}

void audit_mtree_root(const audit_mtree *t, uint8_t root[SWLOG_HASH_BYTES])
{
    if (t->n == 0) {
        swlog_sha256(NULL, 0, root);
        return;
    }
    /* RFC 9162 splits at the largest power of two below n: the subtrees
     * folded from the right give exactly that shape. */
    uint8_t acc[SWLOG_HASH_BYTES];
    memcpy(acc, t->h[t->n - 1], SWLOG_HASH_BYTES);
    for (int i = t->n - 2; i >= 0; i--)
        node(t->h[i], acc, acc);
    memcpy(root, acc, SWLOG_HASH_BYTES);
}

static int cmp_size(const void *a, const void *b)
{
    const audit_checkpoint *x = *(audit_checkpoint *const *)a;
    const audit_checkpoint *y = *(audit_checkpoint *const *)b;
    if (x->tree_size != y->tree_size)
        return x->tree_size < y->tree_size ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void compare(audit_ledger *l)
{
    uint8_t root[SWLOG_HASH_BYTES];
    int have = 0;
    while (l->next < l->ncps && l->cps[l->next]->tree_size == l->t.count) {
        if (!have)
            audit_mtree_root(&l->t, root);
        have = 1;
        audit_checkpoint *cp = l->cps[l->next++];
        cp->state = memcmp(cp->root, root, SWLOG_HASH_BYTES) == 0
                        ? AUDIT_CP_MATCHES
                        : AUDIT_CP_DIFFERS;
    }
}

int audit_ledger_begin(audit_ledger *l, audit_keys *ks,
                       const uint8_t hub[SWLOG_PUBKEY_BYTES])
{
    memset(l, 0, sizeof *l);
    audit_mtree_init(&l->t);
    memcpy(l->hub, hub, SWLOG_PUBKEY_BYTES);
    size_t n, count = 0;
    audit_checkpoint *cp = audit_keys_checkpoints(ks, &n);
    for (size_t i = 0; i < n; i++)
        count += memcmp(cp[i].hub, hub, SWLOG_PUBKEY_BYTES) == 0;
    l->cps = malloc((count + 1) * sizeof *l->cps);
    if (l->cps == NULL)
        return SWLOG_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (memcmp(cp[i].hub, hub, SWLOG_PUBKEY_BYTES) == 0)
            l->cps[l->ncps++] = &cp[i];
    qsort(l->cps, l->ncps, sizeof *l->cps, cmp_size);
    compare(l); /* size 0 */
    return SWLOG_OK;
}

void audit_ledger_leaf(audit_ledger *l, const uint8_t id[SWLOG_HASH_BYTES])
{
    audit_mtree_add(&l->t, id);
    /* Checkpoints of sizes below the count are behind next: the first one
     * left covers this leaf, and has the smallest size that does. */
    l->seen_hlc = l->next < l->ncps ? l->cps[l->next]->hlc : 0;
    if (l->next < l->ncps)
        compare(l);
}

void audit_ledger_end(audit_ledger *l)
{
    for (; l->next < l->ncps; l->next++)
        if (l->cps[l->next]->state == AUDIT_CP_UNCHECKED)
            l->cps[l->next]->state = AUDIT_CP_BEYOND;
    free(l->cps);
    l->cps = NULL;
}
