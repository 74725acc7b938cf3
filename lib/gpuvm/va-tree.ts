// SPDX-License-Identifier: MIT
// The VM's address-ordered tree: a red-black tree whose nodes are the GpuVa objects themselves.
// Mappings never overlap, so ordering by start address is enough to answer the kernel's interval-tree
// queries: the first VA overlapping [a, e) is the last VA starting at or before a (if it reaches past a),
// else the first VA starting after a (if it starts before e). Every lookup is one descent, O(log n);
// stepping to the next VA is amortised O(1) through parent links.
import type { GpuVa } from './gpuva.js';

/** An ordered set of non-overlapping GpuVas. */
export class VaTree {
  /** The root node, or null when empty. */
  root: GpuVa | null = null;
  /** How many VAs the tree holds. */
  size = 0;

  /** The first VA overlapping [addr, end), or null. `end` may be 2^64; an empty interval overlaps nothing. */
  firstOverlap(addr: bigint, end: bigint): GpuVa | null {
    let node = this.root;
    let floor: GpuVa | null = null;
    let above: GpuVa | null = null;
    while (node !== null) {
      if (node.addr <= addr) {
        floor = node;
        node = node.rbRight;
      } else {
        above = node;
        node = node.rbLeft;
      }
    }
    if (floor !== null && addr - floor.addr < floor.range && addr < end) return floor;
    if (above !== null && above.addr < end) return above;
    return null;
  }

  /** The last VA whose start is <= addr, or null. */
  floor(addr: bigint): GpuVa | null {
    let node = this.root;
    let floor: GpuVa | null = null;
    while (node !== null) {
      if (node.addr <= addr) {
        floor = node;
        node = node.rbRight;
      } else {
        node = node.rbLeft;
      }
    }
    return floor;
  }

  /** The lowest-address VA, or null. */
  first(): GpuVa | null {
    let node = this.root;
    if (node === null) return null;
    while (node.rbLeft !== null) node = node.rbLeft;
    return node;
  }

  /** The highest-address VA, or null. */
  last(): GpuVa | null {
    let node = this.root;
    if (node === null) return null;
    while (node.rbRight !== null) node = node.rbRight;
    return node;
  }

  /** The VA after `va` in address order, or null. */
  next(va: GpuVa): GpuVa | null {
    let node = va.rbRight;
    if (node !== null) {
      while (node.rbLeft !== null) node = node.rbLeft;
      return node;
    }
    let child = va;
    let parent = va.rbParent;
    while (parent !== null && parent.rbRight === child) {
      child = parent;
      parent = parent.rbParent;
    }
    return parent;
  }

  /** The VA before `va` in address order, or null. */
  prev(va: GpuVa): GpuVa | null {
    let node = va.rbLeft;
    if (node !== null) {
      while (node.rbRight !== null) node = node.rbRight;
      return node;
    }
    let child = va;
    let parent = va.rbParent;
    while (parent !== null && parent.rbLeft === child) {
      child = parent;
      parent = parent.rbParent;
    }
    return parent;
  }

  /**
   * Links `va` in by its address. The caller has checked that it overlaps nothing; `pred`, when given,
   * must be the VA just before it (or null when `va` becomes the first), which saves the descent.
   */
  insert(va: GpuVa, pred?: GpuVa | null): void {
    va.rbLeft = null;
    va.rbRight = null;
    va.rbRed = true;
    if (this.root === null) {
      va.rbParent = null;
      this.root = va;
    } else if (pred === undefined) {
      let node = this.root;
      for (;;) {
        if (va.addr < node.addr) {
          if (node.rbLeft === null) { node.rbLeft = va; break; }
          node = node.rbLeft;
        } else {
          if (node.rbRight === null) { node.rbRight = va; break; }
          node = node.rbRight;
        }
      }
      va.rbParent = node;
    } else if (pred === null) {
      const first = this.first() as GpuVa;
      first.rbLeft = va;
      va.rbParent = first;
    } else if (pred.rbRight === null) {
      pred.rbRight = va;
      va.rbParent = pred;
    } else {
      // The successor of pred is the leftmost node of its right subtree and has no left child.
      let node = pred.rbRight;
      while (node.rbLeft !== null) node = node.rbLeft;
      node.rbLeft = va;
      va.rbParent = node;
    }
    this.size++;
    this.fixAfterInsert(va);
  }

  /** Unlinks `va`, which must be in this tree. */
  remove(va: GpuVa): void {
    let child: GpuVa | null;
    let parent: GpuVa | null;
    let removedRed: boolean;
    if (va.rbLeft !== null && va.rbRight !== null) {
      // Two children: the successor takes va's place, colour included.
      let succ = va.rbRight;
      while (succ.rbLeft !== null) succ = succ.rbLeft;
      removedRed = succ.rbRed;
      child = succ.rbRight;
      if (succ.rbParent === va) {
        parent = succ;
      } else {
        parent = succ.rbParent as GpuVa;
        parent.rbLeft = child;
        if (child !== null) child.rbParent = parent;
        succ.rbRight = va.rbRight;
        va.rbRight.rbParent = succ;
      }
      this.replace(va, succ);
      succ.rbLeft = va.rbLeft;
      succ.rbLeft.rbParent = succ;
      succ.rbRed = va.rbRed;
    } else {
      removedRed = va.rbRed;
      child = va.rbLeft !== null ? va.rbLeft : va.rbRight;
      parent = va.rbParent;
      this.replace(va, child);
    }
    va.rbLeft = null;
    va.rbRight = null;
    va.rbParent = null;
    this.size--;
    if (!removedRed) this.fixAfterRemove(child, parent);
  }

  private replace(old: GpuVa, node: GpuVa | null): void {
    const parent = old.rbParent;
    if (parent === null) this.root = node;
    else if (parent.rbLeft === old) parent.rbLeft = node;
    else parent.rbRight = node;
    if (node !== null) node.rbParent = parent;
  }

  private rotateLeft(x: GpuVa): void {
    const y = x.rbRight as GpuVa;
    x.rbRight = y.rbLeft;
    if (y.rbLeft !== null) y.rbLeft.rbParent = x;
    this.replace(x, y);
    y.rbLeft = x;
    x.rbParent = y;
  }

  private rotateRight(x: GpuVa): void {
    const y = x.rbLeft as GpuVa;
    x.rbLeft = y.rbRight;
    if (y.rbRight !== null) y.rbRight.rbParent = x;
    this.replace(x, y);
    y.rbRight = x;
    x.rbParent = y;
  }

  private fixAfterInsert(node: GpuVa): void {
    let z = node;
    for (;;) {
      const parent = z.rbParent;
      if (parent === null || !parent.rbRed) break;
      const grand = parent.rbParent as GpuVa; // a red parent is never the root
      if (parent === grand.rbLeft) {
        const uncle = grand.rbRight;
        if (uncle !== null && uncle.rbRed) {
          parent.rbRed = false;
          uncle.rbRed = false;
          grand.rbRed = true;
          z = grand;
          continue;
        }
        if (z === parent.rbRight) {
          this.rotateLeft(parent);
          z = parent;
        }
        const p = z.rbParent as GpuVa;
        p.rbRed = false;
        grand.rbRed = true;
        this.rotateRight(grand);
      } else {
        const uncle = grand.rbLeft;
        if (uncle !== null && uncle.rbRed) {
          parent.rbRed = false;
          uncle.rbRed = false;
          grand.rbRed = true;
          z = grand;
          continue;
        }
        if (z === parent.rbLeft) {
          this.rotateRight(parent);
          z = parent;
        }
        const p = z.rbParent as GpuVa;
        p.rbRed = false;
        grand.rbRed = true;
        this.rotateLeft(grand);
      }
      break;
    }
    (this.root as GpuVa).rbRed = false;
  }

  // `x` carries an extra black; it may be null (a leaf), hence the separate parent.
  private fixAfterRemove(node: GpuVa | null, nodeParent: GpuVa | null): void {
    let x = node;
    let parent = nodeParent;
    while (x !== this.root && (x === null || !x.rbRed)) {
      const p = parent as GpuVa;
      if (x === p.rbLeft) {
        let w = p.rbRight as GpuVa; // the sibling of a doubly black node exists
        if (w.rbRed) {
          w.rbRed = false;
          p.rbRed = true;
          this.rotateLeft(p);
          w = p.rbRight as GpuVa;
        }
        if ((w.rbLeft === null || !w.rbLeft.rbRed) && (w.rbRight === null || !w.rbRight.rbRed)) {
          w.rbRed = true;
          x = p;
          parent = p.rbParent;
          continue;
        }
        if (w.rbRight === null || !w.rbRight.rbRed) {
          (w.rbLeft as GpuVa).rbRed = false;
          w.rbRed = true;
          this.rotateRight(w);
          w = p.rbRight as GpuVa;
        }
        w.rbRed = p.rbRed;
        p.rbRed = false;
        (w.rbRight as GpuVa).rbRed = false;
        this.rotateLeft(p);
      } else {
        let w = p.rbLeft as GpuVa;
        if (w.rbRed) {
          w.rbRed = false;
          p.rbRed = true;
          this.rotateRight(p);
          w = p.rbLeft as GpuVa;
        }
        if ((w.rbLeft === null || !w.rbLeft.rbRed) && (w.rbRight === null || !w.rbRight.rbRed)) {
          w.rbRed = true;
          x = p;
          parent = p.rbParent;
          continue;
        }
        if (w.rbLeft === null || !w.rbLeft.rbRed) {
          (w.rbRight as GpuVa).rbRed = false;
          w.rbRed = true;
          this.rotateLeft(w);
          w = p.rbLeft as GpuVa;
        }
        w.rbRed = p.rbRed;
        p.rbRed = false;
        (w.rbLeft as GpuVa).rbRed = false;
        this.rotateRight(p);
      }
      x = this.root;
      break;
    }
    if (x !== null) x.rbRed = false;
  }
}
