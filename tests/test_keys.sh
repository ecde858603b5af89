#!/usr/bin/env bash
# The key lifecycle with the real swsync-keys (spec/SECURITY.md "Key
# lifecycle"): root-init, certify a county, the county certifies two
# stations, a station rotates, a key is revoked, show; plus the refusals.
# Usage: test_keys.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
K=$BUILD/tools/swsync-keys
VERIFY=$BUILD/tools/swsync-verify
[ -x "$K" ] || { echo "no $K"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-keys-XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

fails=0
checks=0
ok() { checks=$((checks + 1)); echo "ok - $1"; }
bad() {
    checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $1"
}

# run WANT DESC CMD...: run CMD, keep stdout in out.txt and stderr in
# err.txt (and everything in all.txt), check the exit code.
run() {
    local want=$1 desc=$2
    shift 2
    "$@" >out.txt 2>err.txt
    local got=$?
    cat out.txt err.txt >>all.txt
    if [ "$got" -eq "$want" ]; then
        ok "$desc (exit $got)"
    else
        bad "$desc: exit $got, wanted $want"
        sed 's/^/    /' out.txt err.txt
    fi
}
# has FILE TEXT DESC: FILE contains TEXT (fixed string).
has() {
    if grep -qF -- "$2" "$1"; then ok "$3"; else
        bad "$3: '$2' not in $1:"; sed 's/^/    /' "$1"
    fi
}
hasnt() {
    if grep -qF -- "$2" "$1"; then bad "$3: '$2' in $1"; else ok "$3"; fi
}
same() {
    if [ "$1" = "$2" ]; then ok "$3"; else bad "$3: '$1' != '$2'"; fi
}

export ROOTPW='root passphrase, kept offline'
export COUNTYPW='county passphrase'
export WRONGPW='not it'

# ---- key files ---------------------------------------------------------
run 0 "new root key, sealed" $K new --out root.key --passphrase-env ROOTPW \
    --kdf interactive
ROOT=$(cat out.txt)
run 0 "new county key, sealed" $K new --out county.key \
    --passphrase-env COUNTYPW --kdf interactive
COUNTY=$(cat out.txt)
for s in st1 st2 st1b prov; do
    run 0 "new $s key, plain" $K new --out $s.key
    eval "$(echo "$s" | tr a-z A-Z)=\$(cat out.txt)"
done
same "$(stat -c %a root.key)" 600 "root.key is mode 600"
same "$(stat -c %a st1.key)" 600 "st1.key is mode 600"
same "${#ROOT}" 64 "new prints 64 hex digits"
run 0 "pub of a sealed key needs no passphrase" $K pub root.key
same "$(cat out.txt)" "$ROOT" "pub matches what new printed"
run 3 "new never overwrites a key file" $K new --out st1.key
has err.txt "never overwritten" "the overwrite refusal says why"
run 2 "new without --out" $K new
run 2 "unknown command" $K frobnicate
run 0 "--help" $K --help
has out.txt "Exit codes" "--help documents exit codes"
for c in new pub root-init certify rotate revoke show; do
    run 0 "$c --help" $K $c --help
    has out.txt "usage: swsync-keys $c" "$c --help shows its usage"
done

# ---- root --------------------------------------------------------------
run 3 "root-init with a wrong passphrase" $K root-init --key root.key \
    --unit 44 --log root.log --passphrase-env WRONGPW
has err.txt "wrong passphrase" "the wrong passphrase is named as such"
[ ! -e root.log ] && ok "nothing written after a wrong passphrase" ||
    bad "root.log exists after a wrong passphrase"
run 3 "root-init with no passphrase and no terminal" $K root-init \
    --key root.key --unit 44 --log root.log </dev/null
has err.txt "--passphrase-env" "the missing passphrase says how to give one"
run 2 "root-init with a bad unit code" $K root-init --key root.key \
    --unit "44 x" --log root.log --passphrase-env ROOTPW
run 0 "root-init" $K root-init --key root.key --unit 44 --log root.log \
    --passphrase-env ROOTPW
has out.txt "root.log: seq 1: root $ROOT, unit 44" "root-init wrote seq 1"
run 5 "root-init twice" $K root-init --key root.key --unit 44 \
    --log root.log --passphrase-env ROOTPW
has err.txt "already holds 1 frame" "the second root-init says why"

# ---- the root certifies a county and a province hub --------------------
run 0 "root certifies the county hub" $K certify --issuer root.key \
    --issuer-log root.log --subject county.key --role county --unit 4401 \
    --passphrase-env ROOTPW
has out.txt "root.log: seq 2: certified $COUNTY as county, unit 4401" \
    "the county certificate is seq 2"
run 0 "root certifies a province hub, passphrase from a descriptor" \
    $K certify --issuer root.key --issuer-log root.log --subject "$PROV" \
    --role province --unit 44-hub --valid-days 30 --passphrase-fd 3 \
    3<<<"$ROOTPW"
has out.txt "root.log: seq 3: certified $PROV as province" \
    "the province certificate is seq 3"
run 5 "root may not certify a station" $K certify --issuer root.key \
    --issuer-log root.log --subject st1.key --role station --unit 4401-01 \
    --passphrase-env ROOTPW
has err.txt "the root certifies province and county hubs only" \
    "the role refusal says who certifies what"
run 2 "certify as root is no role to give" $K certify --issuer root.key \
    --issuer-log root.log --subject st1.key --role root --unit 1
run 2 "certify with --until before --from" $K certify --issuer root.key \
    --issuer-log root.log --subject county.key --role county --unit 4401 \
    --from 2026-05-01 --until 2026-04-01
run 2 "certify with a bad date" $K certify --issuer root.key \
    --issuer-log root.log --subject county.key --role county --unit 4401 \
    --from 2026-02-30 --until 2027-01-01
run 2 "certify an unknown subject" $K certify --issuer root.key \
    --issuer-log root.log --subject nosuch.key --role county --unit 4401

# ---- the county certifies two stations ---------------------------------
run 2 "the county's first certificate needs --create" $K certify \
    --issuer county.key --issuer-log county.log --subject st1.key \
    --role station --unit 4401-01 --certs root.log \
    --passphrase-env COUNTYPW
has err.txt "add --create" "the missing log says how to start it"
run 5 "the county's role is unknown without the root's log" $K certify \
    --issuer county.key --issuer-log county.log --subject st1.key \
    --role station --unit 4401-01 --create --passphrase-env COUNTYPW
has err.txt "--certs" "the unknown role says to give --certs"
[ ! -e county.log ] && ok "a refused certify creates no log" ||
    bad "county.log exists after a refused certify"
run 0 "county certifies station 1" $K certify --issuer county.key \
    --issuer-log county.log --subject st1.key --role station \
    --unit 4401-01 --create --certs root.log --passphrase-env COUNTYPW
has out.txt "county.log: seq 1: certified $ST1 as station, unit 4401-01" \
    "station 1's certificate is seq 1 of the county's feed"
run 0 "county certifies station 2 by public key, with dates" $K certify \
    --issuer county.key --issuer-log county.log --subject "$ST2" \
    --role station --unit 4401-02 --from 2026-01-01 \
    --until 2027-01-01T00:00:00Z --certs root.log --passphrase-env COUNTYPW
has out.txt "county.log: seq 2: certified $ST2 as station, unit 4401-02, valid 2026-01-01T00:00:00Z to 2027-01-01T00:00:00Z" \
    "station 2's certificate has the dates given"
run 5 "a county may not certify a county" $K certify --issuer county.key \
    --issuer-log county.log --subject prov.key --role county --unit 4402 \
    --certs root.log --passphrase-env COUNTYPW
has err.txt "a county hub certifies stations only" "says what a county does"
run 5 "a station may not certify" $K certify --issuer st2.key \
    --issuer-log st2.log --create --subject st1.key --role station \
    --unit 4401-09 --certs county.log --certs root.log
has err.txt "is a station key" "the station's refusal names its role"
run 4 "certify into a log of another key" $K certify --issuer county.key \
    --issuer-log root.log --subject st1.key --role station --unit 4401-01 \
    --certs root.log --passphrase-env COUNTYPW
has err.txt "not the key's own log" "the wrong log is named as such"
chmod 644 county.key
run 3 "a key file readable by others is refused" $K certify \
    --issuer county.key --issuer-log county.log --subject st1.key \
    --role station --unit 4401-01 --certs root.log --passphrase-env COUNTYPW
has err.txt "chmod 600 county.key" "the mode refusal says how to fix it"
chmod 600 county.key

# ---- a station rotates its key -----------------------------------------
run 0 "station 1 rotates to a new key" $K rotate --old st1.key \
    --new st1b.key --log st1.log --create
has out.txt "st1.log: seq 1: rotated $ST1 to $ST1B" "the rotation is seq 1"
run 5 "a feed rotates once" $K rotate --old st1.key --new st2.key \
    --log st1.log
has err.txt "already ended" "the second rotation says why"

# ---- revocations ---------------------------------------------------------
run 2 "revoke needs a starting point" $K revoke --issuer county.key \
    --issuer-log county.log --subject "$ST2" --reason compromised \
    --passphrase-env COUNTYPW
run 2 "revoke with an unknown reason" $K revoke --issuer county.key \
    --issuer-log county.log --subject "$ST2" --reason bored --from-seq 1 \
    --passphrase-env COUNTYPW
run 0 "county revokes station 2 from seq 3" $K revoke --issuer county.key \
    --issuer-log county.log --subject "$ST2" --reason compromised \
    --from-seq 3 --passphrase-env COUNTYPW
has out.txt "county.log: seq 3: revoked $ST2 (compromised)" \
    "the revocation is seq 3"
run 5 "the root did not certify station 1" $K revoke --issuer root.key \
    --issuer-log root.log --subject st1.key --reason retired --from-seq 1 \
    --passphrase-env ROOTPW
has err.txt "never certified this subject" "the refusal says why"
run 5 "a rotated key's successor needs the rotation's log" $K revoke \
    --issuer county.key --issuer-log county.log --subject st1b.key \
    --reason retired --from-time 2027-06-01 --passphrase-env COUNTYPW
run 0 "county revokes station 1's successor" $K revoke \
    --issuer county.key --issuer-log county.log --subject st1b.key \
    --reason retired --from-time 2027-06-01 --certs st1.log \
    --passphrase-env COUNTYPW
has out.txt "county.log: seq 4: revoked $ST1B (retired)" "seq 4"

# ---- show ------------------------------------------------------------------
run 0 "show the three logs" $K show root.log county.log st1.log
has out.txt "root.log: seq 1: certificate: $ROOT certifies itself as root, unit 44" \
    "show: the root's self-signed certificate"
has out.txt "root.log: seq 2: certificate: $ROOT certifies $COUNTY as county, unit 4401" \
    "show: the county's certificate"
has out.txt "county.log: seq 1: certificate: $COUNTY certifies $ST1 as station, unit 4401-01" \
    "show: station 1's certificate"
has out.txt "valid 2026-01-01T00:00:00Z to 2027-01-01T00:00:00Z" \
    "show: station 2's validity"
has out.txt "st1.log: seq 1: rotation: $ST1 hands its feed over to $ST1B" \
    "show: the rotation"
has out.txt "revokes $ST2, reason compromised, effective from seq 3" \
    "show: the revocation by seq"
has out.txt "revokes $ST1B, reason retired, effective from 2027-06-01T00:00:00Z" \
    "show: the revocation by time"
has out.txt "root.log: 3 frame(s): 3 certificate(s), 0 rotation(s), 0 revocation(s), 0 other" \
    "show: root.log's counts"
has out.txt "county.log: 4 frame(s): 2 certificate(s), 0 rotation(s), 2 revocation(s), 0 other" \
    "show: county.log's counts"
run 2 "show with no log" $K show
run 0 "show -- LOG: the log after -- is read, -- is no file" $K show -- root.log
has out.txt "root.log: 3 frame(s)" "show -- root.log lists root.log"
hasnt out.txt "--:" "show -- does not take -- for a log"

# ---- damaged logs ------------------------------------------------------------
cp county.log torn.log
printf '\xf5\x1e\x00\x00\x00\x00\x01\x00partial' >>torn.log
run 4 "certify into a log with a torn tail" $K certify --issuer county.key \
    --issuer-log torn.log --subject prov.key --role station \
    --unit 4401-03 --certs root.log --passphrase-env COUNTYPW
has err.txt "torn tail" "the torn tail is named"
run 0 "show reports a torn tail" $K show torn.log
has out.txt "bytes of torn tail" "show: the torn tail"
size=$(stat -c %s county.log)
run 0 "--cut-torn-tail cuts and appends" $K certify --issuer county.key \
    --issuer-log torn.log --subject prov.key --role station \
    --unit 4401-03 --certs root.log --cut-torn-tail --passphrase-env COUNTYPW
has out.txt "torn.log: seq 5: certified" "appended after the cut, at seq 5"
same "$(head -c "$size" torn.log | cmp - county.log && echo same)" same \
    "the frames before the torn tail are untouched"
run 0 "a unit code outside the issuer's is allowed, with a warning" \
    $K certify --issuer county.key --issuer-log torn.log --subject st2.key \
    --role station --unit 9901-01 --certs root.log --passphrase-env COUNTYPW
has err.txt "does not start with the issuer's unit 4401" "the unit warning"

cp county.log bent.log
off=$((32 + 200))
# Flip the byte (writing a fixed value would be no damage when the byte
# already had it: 1 run in 256, keys being random).
byte=$(od -An -tu1 -j "$off" -N1 bent.log | tr -d ' ')
# shellcheck disable=SC2059 # the format is the octal escape of a byte
printf "\\$(printf %03o $((byte ^ 255)))" |
    dd of=bent.log bs=1 seek=$off conv=notrunc 2>/dev/null
run 4 "certify into a damaged log" $K certify --issuer county.key \
    --issuer-log bent.log --subject prov.key --role station \
    --unit 4401-03 --certs root.log --passphrase-env COUNTYPW
run 4 "show a damaged log" $K show bent.log
cmp -s bent.log county.log && bad "the damage was not made" ||
    ok "the damaged copy differs"

# ---- logs check out with the verifier, when it is built ---------------------
if [ -x "$VERIFY" ]; then
    for l in root.log county.log st1.log; do
        run 0 "swsync-verify $l" "$VERIFY" "$l"
    done
else
    echo "# swsync-verify not built: skipped"
fi

# ---- secrets never reach the output ------------------------------------------
hasnt all.txt "$ROOTPW" "the root passphrase never printed"
hasnt all.txt "$COUNTYPW" "the county passphrase never printed"
seed=$(od -An -tx1 -j44 -N32 st1.key | tr -d ' \n')
hasnt all.txt "$seed" "a plain key's seed never printed"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
