#pragma once
// `clickflow generate`: deterministic fake web events in the four-file shape of docs/design.md#input-data
// (browser, device, geo, location JSONL), with duplicates, late arrivals and malformed lines
// injected at configurable rates. The same options give byte-identical files on any machine:
// no clock, no std distributions, only integer draws on our own 64-bit generator.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace clickflow::gen {

struct Options {
  std::filesystem::path out_dir;
  uint64_t events = 1000;  // browser events before injections (= location, device, geo lines)
  uint64_t seed = 42;
  double duplicate_rate = 0;                  // per event: browser + location lines re-emitted a bit later
  double late_rate = 0;                       // per event: emitted hours to days after its timestamp
  double malformed_rate = 0;                  // per line and file: an extra line for the dead-letter table
  std::string start = "2026-11-01 00:00:00";  // UTC; sessions start in [start, start + days)
  int days = 28;
};

// The four files, in the order they are written and reported.
enum FileKind { kBrowser, kDevice, kGeo, kLocation, kFileCount };
std::string_view FileName(FileKind kind);

struct FileCounts {
  uint64_t lines = 0;
  uint64_t malformed = 0;
  uint64_t duplicates = 0;
  uint64_t late = 0;
};

struct Summary {
  uint64_t events = 0;
  uint64_t sessions = 0;
  uint64_t users = 0;
  uint64_t late = 0;
  FileCounts files[kFileCount];
};

// Writes the four files and manifest.json (the Summary as JSON) into options.out_dir, creating
// it if needed. Throws clickflow::Error on bad options or I/O failure.
Summary Generate(const Options& options);

// "YYYY-MM-DD HH:MM:SS" (or with T, or a date alone) as UTC seconds since the epoch.
int64_t ParseUtcSeconds(const std::string& text);

}  // namespace clickflow::gen
