// SPDX-License-Identifier: MIT
/** The hex SHA-256 of binding.gyp and native/*.{cc,h} under `root`, as baked into the addon at build time. */
export function nativeSourceDigest(root: string): string;
/** The files the addon's build reads (binding.gyp, its native/*.cc, their local headers), in name order. */
export function nativeSourceFiles(root: string): string[];
