#!/bin/bash
# TLC and pacta side by side on 2PCwithBTM.tla's Termination (3 RMs), in one run:
#   bash bench/liveness-tla/btm-side-by-side.sh      (from the repository root)
# BTMLive.cfg is the model's 2PCwithBTM.cfg plus PROPERTY Termination (holds);
# BTMNoTmFail.cfg sets TMMAYFAIL = FALSE (violated: the backup TM never acts).
set -u
anchors=${ANCHORS:-../shared/anchors}
dir=$(mktemp -d)
cp "$anchors/tlc/specs/tlaplus-examples/transaction_commit/2PCwithBTM.tla" bench/liveness-tla/BTM*.cfg "$dir"
for cfg in BTMLive BTMNoTmFail; do
  uptime
  param=$([ $cfg = BTMNoTmFail ] && echo "--param tmMayFail=false")
  /usr/bin/time -f "TLC $cfg: %e s wall, %U s user" "$anchors/tlc/run-tlc.sh" "$dir" 2PCwithBTM.tla $cfg.cfg 1 2>&1 |
    grep -E "states generated, .* distinct|No error|violated|Finished in|TLC $cfg"
  /usr/bin/time -f "pacta $cfg: %e s wall, %U s user" npx pacta check two-phase-btm-tla $param 2>&1 |
    grep -E "distinct states  |time   |Termination: every|pacta $cfg"
done
