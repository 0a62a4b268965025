/**
 * The Node runtime flags the bot runs with, the one home of them: the image's CMD (Dockerfile),
 * `npm start` and the bench's built-bot process use exactly these (test/node-flags.test.ts holds
 * them to it).
 *
 * --max-semi-space-size=16 (MiB): V8's young generation, pinned (Node 22's own limit; other
 *   versions choose differently). Each of the two semi-spaces grows to 16 MiB and stays committed:
 *   32 MiB of RSS. It was 8, which saved about 20 MiB, but under a burst of acks the smaller
 *   nursery filled every ~20 ms and promoted the requests still in flight: with 6,000 `/jit help`
 *   at 50 concurrent, 147 scavenges and 10 full collections (up to 13 ms each) at 8 against 78 and
 *   3 at 16, and the p99 of the acks ÷ a bare Bolt app's went from 1.07–1.93 (9 runs) to
 *   1.06–1.39 (5 runs). The RSS paid for it, measured by the bench: 191 MiB with 10,000 live
 *   grants (was 167–172) and 237 MiB after 20,000 lifecycles (was 215–216). 4 MiB made spawn →
 *   ready with 2,000 live grants ~0.9 s slower (start-up allocates a lot and a small nursery
 *   promotes it all).
 * --max-old-space-size=384 (MiB): a ceiling on the old generation. V8 sizes its next collection
 *   from this limit as well as from the live heap: with the default limit (a share of the host's
 *   memory) it let the heap and the allocator's native memory grow to 330–360 MiB of RSS through
 *   1,000 acks and 1,000 lifecycles, with 50 MiB live after a full GC; under this ceiling it
 *   collects sooner (about 190 MiB RSS after the same). It also makes V8 collect harder long before
 *   a small container's memory limit. Measured peaks: heap used ≤ 110 MiB, committed ≤ 135 MiB;
 *   45–55 MiB after a full GC. 384 leaves about 3× the measured peak: give the bot's container at
 *   least 512 MiB.
 */
export const NODE_FLAGS = ['--max-semi-space-size=16', '--max-old-space-size=384'] as const;
