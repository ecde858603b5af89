/* Error codes, their names and texts, and failure reporting: FORMAT §11. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    const char *name;
    const char *text;
} codes[] = {
    {SWLOG_OK, "SWLOG_OK", "valid"},
    {SWLOG_EARG, "SWLOG_EARG", "bad argument to a library function"},
    {SWLOG_ENOMEM, "SWLOG_ENOMEM", "out of memory"},
    {SWLOG_EIO, "SWLOG_EIO", "the operating system refused a read or write"},
    {SWLOG_ESHORT, "SWLOG_ESHORT", "input ends inside a structure"},
    {SWLOG_EBOUNDS, "SWLOG_EBOUNDS", "a length or count exceeds its maximum"},
    {SWLOG_ENONCANON, "SWLOG_ENONCANON",
     "decodable, but not the one canonical encoding"},
    {SWLOG_ESIG, "SWLOG_ESIG", "a signature does not verify"},
    {SWLOG_ECHAIN, "SWLOG_ECHAIN",
     "prev is not the id of the previous frame of the feed"},
    {SWLOG_EMAGIC, "SWLOG_EMAGIC", "wrong file magic or frame marker"},
    {SWLOG_ECRC, "SWLOG_ECRC", "CRC32C mismatch (storage damage)"},
    {SWLOG_EVERSION, "SWLOG_EVERSION", "unknown file version or body layout"},
    {SWLOG_ECRITICAL, "SWLOG_ECRITICAL", "unknown critical frame type"},
    {SWLOG_ESEQ, "SWLOG_ESEQ", "sequence number out of order, gap or repeat"},
    {SWLOG_EFORK, "SWLOG_EFORK",
     "two different frames with the same feed and sequence number"},
    {SWLOG_ECORRUPT, "SWLOG_ECORRUPT", "damage followed by valid frames"},
    {SWLOG_EINVAL, "SWLOG_EINVAL",
     "a field holds a value outside its allowed set"},
    {SWLOG_EHASH, "SWLOG_EHASH", "payload hash mismatch"},
    {SWLOG_EPROOF, "SWLOG_EPROOF", "a Merkle proof does not verify"},
};

const char *swlog_code_name(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return codes[i].name;
    return "SWLOG_E?";
}

const char *swlog_code_text(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return codes[i].text;
    return "unknown error code";
}

int swlog_code_parse(const char *name, int *code)
{
    if (name == NULL || code == NULL)
        return 0;
    if (strcmp(name, "ok") == 0) {
        *code = SWLOG_OK;
        return 1;
    }
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(codes[i].name, name) == 0) {
            *code = codes[i].code;
            return 1;
        }
    return 0;
}

int swlog_vfail(swlog_error *err, int code, uint64_t offset, const char *fmt,
                va_list ap)
{
    if (err != NULL && err->code == SWLOG_OK) {
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        err->code = (swlog_code)code;
        err->offset = offset;
    }
    return code;
}

int swlog_fail(swlog_error *err, int code, uint64_t offset, const char *fmt,
               ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = swlog_vfail(err, code, offset, fmt, ap);
    va_end(ap);
    return rc;
}
