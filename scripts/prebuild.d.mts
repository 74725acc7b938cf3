// SPDX-License-Identifier: MIT
/** The architectures the prebuild script makes, with the GNU triplet of each one's toolchain. */
export const TARGETS: Readonly<Record<'x64' | 'arm64', { triplet: string; debianPackage: string }>>;
/** Where the committed prebuild of an architecture lives (under `base`, default the repository). */
export function prebuildPath(arch: string, base?: string): string;
/** The source digest baked into an addon binary, read from its bytes; undefined when not exactly one. */
export function embeddedDigest(binary: Buffer): string | undefined;
/** The highest GLIBC_ symbol version an ELF file needs (objdump -T), e.g. "2.33". */
export function maxGlibcVersion(file: string, objdump: string): string | undefined;
