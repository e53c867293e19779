/** Writes a generated list-append history of N transactions as Jepsen EDN (for issue-25.sh). */
import { writeFileSync } from 'node:fs';
import { generateListAppend, toEdn } from '../../bench/txcheck-histories.ts';

writeFileSync(process.argv[3]!, toEdn(generateListAppend({ transactions: Number(process.argv[2]), seed: 7 })));
