// SPDX-License-Identifier: MIT
// Child process of the vgpuvm vm.exec tests (test/guest/gpu.test.ts), each scenario in a fresh process so
// that no earlier test hides a crash. argv[2] is the vgpuvm node, argv[3] the scenario:
//   exit     a long job in flight and a wait pending on it, then process.exit(0) with nothing closed
//   worker   the same inside a worker thread, which ends itself (process.exit there); the main thread goes on
//   hostile  vm.exec with hostile arguments (throwing getters, Proxies, out-of-range values, closed or
//            foreign jobs, a closed VM and Gpu): prints what each did, as JSON
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { openGpu, SoftwareFence } = await import(`${root}dist/index.js`);
const [node, scenario] = isMainThread ? process.argv.slice(2) : workerData;
const MIB = 1n << 20n;

/** A Gpu with a VM mapping a 16 MiB BO at 1 MiB, and a job of 32 fills of all of it (long under TCG). */
async function longJob() {
  const gpu = openGpu(node);
  const vm = gpu.createVm({ policy: 'deferred', range: 1n << 32n });
  const bo = gpu.createBo(16n * MIB);
  await vm.map({ addr: MIB, range: 16n * MIB, bo });
  const job = await vm.exec(Array.from({ length: 32 }, (_, i) => ({ op: 'fill', dst: MIB, size: 16n * MIB, value: BigInt(i) })));
  void job.wait().then(() => process.stdout.write('the wait settled\n'));
  return { gpu, vm, job };
}

/** What a call did: 'ok', or the error's code (or message where it has none). */
async function outcome(call) {
  try {
    const result = await call();
    if (result !== undefined && typeof result.wait === 'function') {
      await result.wait();
      result.close();
    }
    return 'ok';
  } catch (error) {
    return error?.code ?? `${error?.name}: ${error?.message}`;
  }
}

async function hostile() {
  const gpu = openGpu(node);
  const vm = gpu.createVm({ policy: 'gpuva-lock', range: 1n << 32n });
  const bo = gpu.createBo(1n * MIB);
  await vm.map({ addr: MIB, range: MIB, bo });
  const fill = { op: 'fill', dst: MIB, size: 8n, value: 1n };
  const other = openGpu(node);
  const otherVm = other.createVm({ policy: 'deferred', range: 1n << 32n });
  const otherBo = other.createBo(MIB);
  await otherVm.map({ addr: MIB, range: MIB, bo: otherBo });
  const foreign = await otherVm.exec([fill]);
  const closedJob = await vm.exec([fill]);
  await closedJob.wait();
  closedJob.close();
  const results = {
    throwingGetter: await outcome(() => vm.exec([{ get op() { throw new RangeError('getter'); } }])),
    throwingOptions: await outcome(() => vm.exec([fill], { get after() { throw new RangeError('options'); } })),
    proxyCommand: await outcome(() => vm.exec([new Proxy(fill, {})])),
    proxyArray: await outcome(() => vm.exec(new Proxy([fill], {}))),
    revokedProxy: await outcome(() => {
      const { proxy, revoke } = Proxy.revocable(fill, {});
      revoke();
      return vm.exec([proxy]);
    }),
    tooMany: await outcome(() => vm.exec(Array.from({ length: 257 }, () => fill))),
    notArray: await outcome(() => vm.exec({ length: 1, 0: fill })),
    stringSize: await outcome(() => vm.exec([{ ...fill, size: '8' }])),
    hugeDst: await outcome(() => vm.exec([{ ...fill, dst: 1n << 64n }])),
    negativeValue: await outcome(() => vm.exec([{ ...fill, value: -1n }])),
    copyWithoutSrc: await outcome(() => vm.exec([{ op: 'copy', dst: MIB, size: 8n }])),
    afterNotFence: await outcome(() => vm.exec([fill], { after: [{}] })),
    afterClosedJob: await outcome(() => vm.exec([fill], { after: [closedJob] })),
    afterForeignJob: await outcome(() => vm.exec([fill], { after: [foreign] })),
    afterSignalledSoftware: await outcome(() => {
      const gate = new SoftwareFence();
      gate.signal();
      return vm.exec([fill], { after: [gate] });
    }),
    jobsHeld: gpu.resources().jobs,
  };
  foreign.close();
  other.close();
  vm.close();
  results.closedVm = await outcome(() => vm.exec([fill]));
  gpu.close();
  results.closedGpu = await outcome(() => vm.exec([fill]));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (scenario === 'exit') {
  await longJob();
  process.stdout.write('exiting with the job in flight\n');
  process.exit(0);
} else if (scenario === 'worker') {
  if (isMainThread) {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: [node, scenario] });
    worker.on('exit', (code) => {
      process.stdout.write(`the worker ended (${code})\n`);
    });
  } else {
    await longJob();
    // Ends the worker thread, not the process, with the job and the wait on it still pending.
    process.exit(0);
  }
} else if (scenario === 'hostile') {
  await hostile();
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
