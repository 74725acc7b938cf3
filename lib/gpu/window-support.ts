// SPDX-License-Identifier: MIT
// The VA window backend as a Gpu's backend: the software device and vgem, which have no GPU page tables.
// A VM is a reserved CPU address range standing for its VA space; a BO's memory is made once per device, as
// the device's probe says (memfd, GEM buffer, udmabuf over a memfd, or a GEM buffer mapped from offset 0
// only), and every VM that maps the BO maps that same memory into its window.
import type { Buffer, Device } from '../drm/device.js';
import { GemBuffer } from '../drm/gem-buffer.js';
import { VgemJob } from '../drm/vgem-job.js';
import { SoftwareFence } from '../fence/software-fence.js';
import type { DmaBuf } from '../drm/dma-buf.js';
import { pageSize } from '../drm/page-size.js';
import { VaWindowBackend } from '../backends/va-window-backend.js';
import { allocateWindowMemory, planWindowMemory, type WindowMemory, type WindowMemoryPlan } from '../backends/va-window-memory.js';
import type { GemObject } from '../gpuvm/gem.js';
import type { GpuDescription, GpuRefusal } from './description.js';
import type { DeviceBoParts, DeviceVmParts, DriverSupport, GpuJob, VmRequest } from './driver-support.js';
import { GpuError } from './errors.js';
import { isInstance } from '../drm/resource.js';

/** A software fence as a job: signalled by code, nothing to release. */
class SoftwareJob extends SoftwareFence implements GpuJob {
  close(): void {}

  [Symbol.dispose](): void {}
}

// An imported dma-buf's exporter is not known: vgem's, for one, faults pages in from the wrong offset.
const IMPORTED_OFFSET_RULE = 'an imported dma-buf is mapped from BO offset 0 only: its exporter may ignore the page offset of a mapping (vgem does)';

function partsOf(memory: WindowMemory): DeviceBoParts {
  return { buffer: memory.buffer, memory, cpuMappable: true, release: () => memory.close() };
}

/** The VA window backend over `device` (a SoftwareDevice or a vgem node). */
export class WindowSupport implements DriverSupport {
  readonly device: Device;
  readonly backendName = 'va-window';
  readonly kernelPrivateBos = false;
  /** How BO memory is made on this device (probed once, shared by every VM). */
  readonly plan: WindowMemoryPlan;

  constructor(device: Device) {
    this.device = device;
    this.plan = planWindowMemory(device);
  }

  createVm(request: VmRequest, _handleOf: (gem: GemObject) => number, memoryOf: (gem: GemObject) => WindowMemory | undefined): DeviceVmParts {
    const backend = new VaWindowBackend({ device: this.device, start: request.start, size: request.range, plan: this.plan, memoryOf });
    // Unmaps are mmaps of the window; nothing is left to discard once the window is given back.
    return { backend, vmId: null, discard: () => {}, destroy: () => backend.close() };
  }

  createBo(size: bigint): DeviceBoParts {
    return partsOf(allocateWindowMemory(this.device, this.plan, size));
  }

  importBo(dmaBuf: DmaBuf): DeviceBoParts {
    try {
      const buffer = this.device.importDmaBuf(dmaBuf);
      // The software device's imports are memfds, which map every offset; a DRM import maps through the dma-buf.
      const software = this.device.kind === 'software';
      const memory: WindowMemory = {
        buffer,
        source: software ? buffer : dmaBuf,
        offsetRule: software ? null : IMPORTED_OFFSET_RULE,
        close: () => {
          buffer.close();
          dmaBuf.close();
        },
      };
      return partsOf(memory);
    } catch (error) {
      dmaBuf.close();
      throw error;
    }
  }

  startJob(buffers: readonly Buffer[], write: boolean, name: string): GpuJob {
    if (this.device.kind === 'software') return new SoftwareJob({ name });
    const gems = buffers.map((buffer) => {
      if (isInstance(buffer, GemBuffer)) return buffer;
      throw new GpuError('ERR_GPU_UNSUPPORTED', 'startJob: a BO whose memory is not a GEM object of this device has no dma_resv to carry the job');
    });
    return VgemJob.start(gems, { write, name });
  }

  describe(): GpuDescription {
    const software = this.device.kind === 'software';
    const refused: GpuRefusal[] = [];
    if (!this.plan.anyOffset) refused.push({ what: 'a mapping that starts at a non-zero BO offset', why: this.plan.reason });
    if (!software) refused.push({ what: 'a mapping of an imported BO that starts at a non-zero BO offset', why: IMPORTED_OFFSET_RULE });
    refused.push({ what: 'VA spaces larger than 2^46 bytes', why: 'each VM reserves its whole VA range as CPU address space' });
    refused.push({ what: 'addresses, sizes and BO offsets that are not multiples of the CPU page size', why: 'a window mapping is an mmap' });
    const memory = {
      memfd: 'sealed memfds',
      gem: 'GEM buffers mapped through their dma-bufs',
      udmabuf: 'udmabufs over sealed memfds, imported as GEM objects (fences attach)',
      'gem-offset-zero': 'GEM buffers mapped through their dma-bufs from offset 0',
    }[this.plan.kind];
    return {
      kind: this.device.kind,
      path: this.device.path,
      driver: this.device.driver,
      backend: this.backendName,
      binds: `each VM is a reserved CPU address range standing for its VA space; a bind mmaps the BO's memory (${memory}) into it`,
      sparse: { supported: true, how: 'sparse mappings have no memory: reads give zeros, writes are dropped' },
      cpuVaAccess: { supported: true, how: 'vm.read / vm.write read and write the window: BO memory where mapped, zeros where sparse' },
      boCpuMapping: { supported: true, how: software ? 'the memfd' : 'the BO memory the window maps' },
      privateBos: { supported: true, how: `in the model only (the BO shares the VM's reservation): ${this.device.driver} has no VM-private BOs` },
      dmaBuf: software
        ? { supported: true, how: 'exports and imports are memfds (the software device has no dma-bufs)' }
        : { supported: true, how: 'PRIME export and import' },
      jobs: software
        ? { supported: true, how: 'software fences, signalled by code (job.signal())' }
        : { supported: true, how: 'vgem fences attached to the BOs (the kernel adds them to their dma_resv), read back through a sync_file' },
      exec: { supported: false, how: `${software ? 'the software device' : 'vgem'} has no GPU to run commands: gpu.startJob gives a fence on BOs that code signals` },
      bindSyncobjs: { supported: false, how: 'a bind is an mmap into the window, with no ioctl to carry syncs: the VM waits for the in-fences and signals the out-fence itself' },
      pageSizes: [pageSize()],
      verified: software ? 'host' : 'kernel-in-vm',
      refused,
    };
  }

  close(): void {
    // Each VM's window and each BO's memory are released with them; the probe kept nothing.
  }
}
