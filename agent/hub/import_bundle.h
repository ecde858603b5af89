/* `swsync-hub import-bundle` (spec/PROTOCOL.md §9, §9.1): a station's
 * offline bundle imported through hub_push, batch by batch, and the reply
 * bundle of receipts written for the station. */
#ifndef IMPORT_BUNDLE_H
#define IMPORT_BUNDLE_H

/* PROTOCOL §9.1: the largest bundle file imported at once (it is read
 * into memory whole, so that a damaged one is refused before anything is
 * stored). */
#define IMPORT_BUNDLE_MAX_BYTES (256ull * 1024 * 1024)

/* PROTOCOL §9.1: the pull frames a reply carries (frames body bytes, hex
 * in the end line: within the JSON reader's 1 MiB per line). */
#define IMPORT_BUNDLE_PULL_MAX_BYTES 500000u
#define IMPORT_BUNDLE_PULL_MAX_FRAMES 10000u

/* argv[0] is "import-bundle". Prints; returns the exit status. */
int import_bundle_main(int argc, char **argv);

#endif
