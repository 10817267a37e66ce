#!/usr/bin/env node
// `node bench/attention.mjs [--no-peers] [--rounds N]` (after `npx tsc -p tsconfig.build.json`): the attention suite of
// `npm run bench` alone (bench/lm.mjs), beside PyTorch (bench/lm_peer.py) when /usr/bin/python3 has torch.
// NODEGRAD_NUM_THREADS sets nodegrad's threads (default 2); the peer runs on as many.
import { standalone } from './lm.mjs';

await standalone('attention');
