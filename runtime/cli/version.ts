// runtime/cli/version.ts — capc's version, shown by --version and --info.
export const VERSION = '0.1.0';
