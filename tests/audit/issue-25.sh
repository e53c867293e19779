#!/usr/bin/env bash
# The bad inputs of issue 25's audit, each run against the `pacta` command, as a table:
#   | # | case | expected | got | time | verdict | first line of the message |
# A row passes when the exit code is the expected one, the message matches, and no
# "internal error" is printed. Every case runs with a 1.5 GB V8 heap cap (a blow-up on the heap
# is an out-of-memory abort, exit 134) and a time bound; the big-history cases also bound the
# peak RSS (typed arrays live outside the heap).
#
#   tests/audit/issue-25.sh [--slow] [PACTA]
# PACTA defaults to this checkout's cli/pacta.mjs (the build in dist/ when current). --slow adds
# the big-history cases (a 122k-operation etcd log for lincheck, 250k transactions for txcheck;
# about a minute each on a loaded 2-core machine). Generated files go to a temporary folder.
# The in-process tests of the same cases are tests/bad-input.test.ts (run by vitest).
set -u
slow=0
if [ "${1:-}" = "--slow" ]; then slow=1; shift; fi
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PACTA="${1:-$repo/cli/pacta.mjs}"
work="$(mktemp -d "${TMPDIR:-/tmp}/pacta-audit-25.XXXXXX")"
cd "$work"
fails=0
rows=0

# row ID EXPECTED_EXIT REGEX DESCRIPTION -- COMMAND...   (stdin from /dev/null; 60 s bound)
row() {
  local id="$1" expected="$2" regex="$3" what="$4"
  shift 5
  if [ "$1" = pacta ]; then shift; set -- node "$PACTA" "$@"; fi
  local started ended code out
  started=$(date +%s%N)
  out="$(NODE_OPTIONS="--max-old-space-size=1536" /usr/bin/time -f '%M' -o rss.kb timeout -k 5 "${LIMIT:-60}" "$@" </dev/null 2>&1)"
  code=$?
  ended=$(date +%s%N)
  # Typed arrays live outside the V8 heap: peak RSS is the bound that matters (MAX_RSS_MB).
  local rss=$(($(tail -1 rss.kb) / 1024))
  if [ -n "${MAX_RSS_MB:-}" ]; then
    out="(peak RSS $rss MB) $out"
    [ "$rss" -gt "$MAX_RSS_MB" ] && code="$code, over $MAX_RSS_MB MB"
  fi
  report "$id" "$expected" "$regex" "$what" "$code" "$out" $(((ended - started) / 1000000))
}

report() {
  local id="$1" expected="$2" regex="$3" what="$4" code="$5" out="$6" ms="$7" verdict=pass
  [ "$code" = 124 ] && out="(killed after the time bound: a hang) $out"
  if [ "$code" != "$expected" ] || ! grep -Eq -- "$regex" <<<"$out" || grep -q "internal error" <<<"$out"; then
    verdict=FAIL
    fails=$((fails + 1))
  fi
  rows=$((rows + 1))
  local first
  first="$(grep -v '^pacta: running the TypeScript sources' <<<"$out" | grep -m1 -E '[^[:space:]│┌└├─]' | cut -c1-150 | sed 's/|/\\|/g')"
  printf '| %s | %s | %s | %s | %s ms | %s | %s |\n' "$id" "$what" "$expected" "$code" "$ms" "$verdict" "$first"
}

pacta() { node "$PACTA" "$@"; }
example="$repo/traces/examples/two-phase.commit-early.json"
edit() { # edit OUT PYTHON-STATEMENTS-ON-t
  python3 -c "import json,sys; t=json.load(open('$example')); $2; json.dump(t, open('$1','w'), indent=1)"
}

echo "| # | case | expected | got | time | verdict | message |"
echo "|---|---|---|---|---|---|---|"

# --- input errors that were "internal error" (exit 4) ---
python3 -c "
import sys
N=100000
t=open('$example').read().replace('\"state\": \"working\"', '\"state\": ' + '['*N + '0' + ']'*N, 1)
open('deep.json','w').write(t)
open('deep.edn','w').write('['*N + ']'*N)
"
row 1 2 'nested deeper than 1000' 'show of a trace nested 100k deep' -- pacta show deep.json
row 2 2 'nested deeper than 1000' 'replay of the 100k-deep trace' -- pacta replay deep.json
row 3 2 'nested deeper than 1000' 'minimize of the 100k-deep trace (exited 0)' -- pacta minimize deep.json
row 4 2 'nested deeper than 1000' 'lincheck of EDN nested 100k deep' -- pacta lincheck deep.edn
row 5 2 'nested deeper than 1000' 'txcheck of EDN nested 100k deep' -- pacta txcheck deep.edn
echo '{}' >a-file
row 6 2 'exists and is not a folder' 'check --out naming an existing file (EEXIST)' -- pacta check two-phase:commit-early --out a-file
row 7 2 'cannot create the folder' 'check --out in a folder that cannot be made (/sys: EPERM; EACCES as non-root)' -- pacta check two-phase:commit-early --out /sys/pacta-audit
mkdir -p ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then
  row 7b 2 'cannot create the folder' 'check --out under a read-only folder (EACCES)' -- pacta check two-phase:commit-early --out ro/traces
fi
mkdir -p a-folder
row 8 2 'a-folder is a folder; --out expects the path of a file' 'minimize -o naming a folder (was a raw EISDIR)' -- pacta minimize "$example" -o a-folder
row 8b 2 'a-folder is a folder; --out expects the path of a file' 'show -o naming a folder (was a raw EISDIR)' -- pacta show "$example" -o a-folder
mkdir -p in-the-way/two-phase.commit-early.bfs.violation.json
row 8c 2 'violation\.json: it is a folder; a file was expected' 'check --out whose trace file name is taken by a folder' -- pacta check two-phase:commit-early --out in-the-way
printf 'GARBAGEGARBAGE!!' >node-0.log
mkdir -p data && cp node-0.log data/node-0.log
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >key.hex && chmod 600 key.hex
peers=127.0.0.1:17101,127.0.0.1:17102,127.0.0.1:17103,127.0.0.1:17104,127.0.0.1:17105
LIMIT=15 row 9 2 'not a pacta log' 'run with a corrupt log header' -- pacta run raft-kv --node 0 --peers $peers --key-file key.hex --data data --quiet
LIMIT=15 row 10 2 'nosuchhost\.invalid' 'run with an unresolvable peer host' -- pacta run raft-kv --node 0 --peers nosuchhost.invalid:17101,127.0.0.1:17102,127.0.0.1:17103,127.0.0.1:17104,127.0.0.1:17105 --key-file key.hex --data data2 --quiet
LIMIT=15 row 10b 2 'nosuchhost\.invalid' 'run (tcp) with an unresolvable peer host' -- pacta run raft-kv --node 0 --transport tcp --peers nosuchhost.invalid:17101,127.0.0.1:17102,127.0.0.1:17103,127.0.0.1:17104,127.0.0.1:17105 --key-file key.hex --data data3 --quiet
row 11 2 "param 'reads' must be one of" 'check raft-kv --param reads=bogus' -- pacta check raft-kv --param reads=bogus
row 11b 2 "^pacta run: param 'rms' must be from 1 to 255" 'run --param rms=100000 (named the API function startCluster)' -- pacta run two-phase --layout --param rms=100000
edit badmsg.json "t['steps'][2]['event']['msg']={'kind':'bogus'}"
row 12 2 'badmsg\.json.*step 2' 'replay --executor of a trace whose message is malformed' -- pacta replay badmsg.json --executor
edit badnet.json "t['steps'][1]['state']['network'][0]['msg']={'nokind':1}"
row 12b 2 'badnet\.json.*step 1' 'replay --executor of a trace whose in-flight message is malformed' -- pacta replay badnet.json --executor

# --- hangs ---
mkfifo pipe.log pipe.edn
LIMIT=10 row 13 2 'named pipe' 'lincheck of a named pipe' -- pacta lincheck pipe.log
LIMIT=10 row 14 2 'named pipe' 'txcheck of a named pipe' -- pacta txcheck pipe.edn
LIMIT=10 row 15 2 'cannot create the folder /proc' 'check --out under /proc' -- pacta check two-phase:commit-early --out /proc/pacta-audit/traces
LIMIT=10 row 16 2 '/proc/pacta-audit' 'run --data under /proc' -- pacta run raft-kv --node 0 --peers $peers --key-file key.hex --data /proc/pacta-audit/data --quiet

# --- memory ---
python3 -c "
import json
t=json.load(open('$repo/traces/examples/raft-lease-ignores-skew.json')); t['params']['keys']=10**9
json.dump(t, open('keys.json','w'))"
row 17 2 "param 'keys' must be from 1 to" 'replay of a trace whose params.keys is 1e9' -- pacta replay keys.json
row 18 2 "param 'keys' must be from 1 to" 'check raft-kv --param keys=1e9 --max-states 2000' -- pacta check raft-kv --param keys=1e9 --max-states 2000
row 18b 2 "param 'keys' must be from 1 to 1024" 'check spanner --param keys=1e8 (was a fatal out-of-memory)' -- pacta check spanner --param keys=100000000 --max-states 10
row 18c 2 "param 'clients' must be from 0 to 255" 'check aurora --param clients=300 (was "the spec is malformed")' -- pacta check aurora --param clients=300 --max-states 10
row 19 2 'at most 256' 'check --workers 1000' -- pacta check two-phase --workers 1000
row 20 2 '/dev/zero is a device' 'lincheck of /dev/zero' -- pacta lincheck --format etcd /dev/zero
row 21 2 '/dev/zero is a device' 'txcheck of /dev/zero' -- pacta txcheck --format edn /dev/zero
if [ "$slow" = 1 ]; then
  (cd "$repo" && npx tsx bench/etcd-histories.ts 122000 "$work/e122k.log" --info 0.15)
  MAX_RSS_MB=1024 LIMIT=300 row 22 0 'linearizable' 'lincheck of a 122k-operation etcd log, 15% :info (peak RSS at most 1 GB)' -- pacta lincheck e122k.log
  (cd "$repo" && npx tsx "$here/gen-transactions.ts" 250000 "$work/tx250k.edn")
  MAX_RSS_MB=2048 LIMIT=300 row 23 0 'No anomalies found' 'txcheck of 250k transactions (peak RSS at most 2 GB)' -- pacta txcheck tx250k.edn
fi

# --- wrong verdicts and silent acceptance ---
printf 'INFO  jepsen.util - 0\t:invoke\t:write\t9007199254740993\nINFO  jepsen.util - 0\t:ok\t:write\t9007199254740993\nINFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t9007199254740992\n' >big.log
row 24 1 'not linearizable|Stuck' 'lincheck: integers above 2^53 (was "linearizable")' -- pacta lincheck big.log
: >empty.log
: >empty.edn
row 25 2 'is empty' 'lincheck of an empty history (was "linearizable")' -- pacta lincheck empty.log
row 26 2 'is empty' 'txcheck of an empty history (was valid)' -- pacta txcheck empty.edn
edit quantum.json "t['options']['network']='quantum'"
row 27 2 'options\.network: expected' 'replay of a trace with network "quantum" (was replayed as set)' -- pacta replay quantum.json
row 28 2 "has no param '__proto__'" 'check --param __proto__=1 (was ignored)' -- pacta check two-phase --param __proto__=1
row 29 2 "Unknown option '--bogus'" 'list --bogus (was ignored)' -- pacta list --bogus
row 30 2 "param 'values' must be from" 'check raft-kv --param values=-5 (was accepted)' -- pacta check raft-kv --param values=-5
# A bug report downloaded outside the working directory: a trace beside a module that leaves a
# file behind if it runs.
downloads="$(mktemp -d "${TMPDIR:-/tmp}/pacta-audit-25-report.XXXXXX")"
cat >"$downloads/evil.mjs" <<EOF
import { writeFileSync } from 'node:fs';
writeFileSync('$work/EVIL-RAN', 'ran');
export default {};
EOF
edit "$downloads/trace.json" "t['spec']='./evil.mjs'"
row 31 0 'violates' 'show of a trace naming a module beside it (ran it)' -- pacta show "$downloads/trace.json"
row 32 2 'outside the working directory' 'replay of that trace' -- pacta replay "$downloads/trace.json"
row 32b 2 'outside the working directory' 'minimize of that trace' -- pacta minimize "$downloads/trace.json"
if [ -e EVIL-RAN ]; then ran=present; else ran=absent; fi
report 33 absent '' 'the module named by the trace did not run' "$ran" '' 0

# Ctrl-C on check: a partial summary and exit 130.
started=$(date +%s%N)
node "$PACTA" check two-phase --param rms=10 --workers 2 --force --no-liveness >sigint.out 2>&1 &
pid=$!
sleep 6
kill -INT $pid
wait $pid
code=$?
report 34 130 'interrupted' 'Ctrl-C during check (was: no summary)' "$code" "$(grep -m1 interrupted sigint.out)" $((($(date +%s%N) - started) / 1000000))
# A closed pipe: no EPIPE stack.
out="$( (node "$PACTA" run raft-kv --layout | head -1) 2>&1 >/dev/null)"
report 35 0 '^$' 'run --layout piped to head -1: no EPIPE stack' 0 "$out" 0
row 36 4 'mutated its state' 'a handler mutating its state, bfs (was "internal error")' -- pacta check "$here/mutating-spec.ts" --out traces
row 37 4 'mutated its state' 'the same, random mode (was a false VIOLATION)' -- pacta check "$here/mutating-spec.ts" --mode random --out traces
row 38 4 'mutated its state' 'the same, dfs' -- pacta check "$here/mutating-spec.ts" --mode dfs --out traces
row 39 4 'Math\.random|not deterministic' 'a guard calling Math.random() (was not noticed)' -- pacta check "$here/random-guard-spec.ts" --out traces

echo
echo "$((rows - fails)) of $rows cases pass; the generated files are in $work"
[ "$fails" = 0 ]
