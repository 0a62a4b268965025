/**
 * The Node runtime flags the bot runs with, the one home of them: the image's CMD (Dockerfile),
 * `npm start` and the bench's built-bot process use exactly these (test/node-flags.test.ts holds
 * them to it).
 *
 * --max-semi-space-size=8 (MiB): V8's young generation. Node 22's default lets each of the two
 *   semi-spaces grow to 16 MiB, and V8 keeps them committed once grown: 32 MiB of RSS for a
 *   process whose live JS heap is about 55 MiB. At 8 MiB the young generation is 16 MiB (more
 *   frequent, cheaper scavenges). 4 MiB saved another ~14 MiB but made spawn → ready with 2,000
 *   live grants ~0.9 s slower (2.17 s vs 1.19–1.32 s; 8 MiB: 1.23 s): start-up allocates a lot
 *   and a small nursery promotes it all, so 8.
 * --max-old-space-size=384 (MiB): a ceiling on the old generation. V8 sizes its next collection
 *   from this limit as well as from the live heap: with the default limit (a share of the host's
 *   memory) it let the heap and the allocator's native memory grow to 330–360 MiB of RSS through
 *   1,000 acks and 1,000 lifecycles, with 50 MiB live after a full GC; under this ceiling it
 *   collects sooner (about 190 MiB RSS after the same). It also makes V8 collect harder long before
 *   a small container's memory limit. Measured peaks: heap used ≤ 110 MiB, committed ≤ 135 MiB;
 *   45–55 MiB after a full GC. 384 leaves about 3× the measured peak: give the bot's container at
 *   least 512 MiB.
 */
export const NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=384'] as const;
