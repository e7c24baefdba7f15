// runtime/cli/version.ts — capc's version, shown by --version and --info and
// written into exported files (the pcapng section header, OTLP's service.version).
export const VERSION = '0.1.0';
