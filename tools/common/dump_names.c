/* Names of the format's enumerations for dumps (FORMAT §4.2, §5.4, §7). */
#include "dump.h"

const char *dump_type_name(uint8_t type)
{
    switch (type) {
    case SWLOG_TYPE_CHANGESET: return "changeset";
    case SWLOG_TYPE_CERT: return "cert";
    case SWLOG_TYPE_ROTATION: return "rotation";
    case SWLOG_TYPE_REVOCATION: return "revocation";
    case SWLOG_TYPE_CHECKPOINT: return "checkpoint";
    default: return "unknown";
    }
}

const char *dump_role_name(uint8_t role)
{
    switch (role) {
    case SWLOG_ROLE_ROOT: return "root";
    case SWLOG_ROLE_PROVINCE: return "province";
    case SWLOG_ROLE_COUNTY: return "county";
    case SWLOG_ROLE_STATION: return "station";
    default: return "unknown";
    }
}

const char *dump_reason_name(uint8_t reason)
{
    switch (reason) {
    case SWLOG_REASON_UNSPECIFIED: return "unspecified";
    case SWLOG_REASON_COMPROMISED: return "compromised";
    case SWLOG_REASON_RETIRED: return "retired";
    case SWLOG_REASON_SUPERSEDED: return "superseded";
    default: return "unknown";
    }
}

const char *dump_vtype_name(uint8_t type)
{
    switch (type) {
    case SWLOG_NULL: return "null";
    case SWLOG_INT: return "int";
    case SWLOG_REAL: return "real";
    case SWLOG_TEXT: return "text";
    case SWLOG_BLOB: return "blob";
    default: return "unknown";
    }
}
