// `clickflow generate`: deterministic fake web events, the four JSONL files + manifest.json.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "generator/generator.h"

namespace clickflow::cli {

void RegisterGenerate(CLI::App& app, GlobalOptions& /*global: the generator needs no config*/) {
  auto options = std::make_shared<gen::Options>();
  auto* cmd =
      app.add_subcommand("generate", "write deterministic fake web events: browser, device, geo and location JSONL");
  cmd->add_option("--out", options->out_dir, "output folder (created if missing)")->required();
  cmd->add_option("--events", options->events, "browser events to generate (before injections)")->required();
  cmd->add_option("--seed", options->seed, "random seed; same options, same bytes")->capture_default_str();
  cmd->add_option("--duplicate-rate", options->duplicate_rate,
                  "share of events whose browser and location lines are sent twice")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--late-rate", options->late_rate, "share of events written hours to days after their timestamp")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--malformed-rate", options->malformed_rate,
                  "per file and line, chance of an extra line for the dead-letter table")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--start", options->start, "UTC start of the time window, YYYY-MM-DD HH:MM:SS")
      ->capture_default_str();
  cmd->add_option("--days", options->days, "length of the time window in days")
      ->check(CLI::Range(1, 3660))
      ->capture_default_str();

  cmd->callback([options] {
    const auto started = std::chrono::steady_clock::now();
    const gen::Summary s = gen::Generate(*options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // A report, not a log line: it goes to stderr so stdout stays free for pipes.
    fmt::print(stderr, "generated {} events in {} sessions of {} users ({} late) into {} in {:.2f}s\n", s.events,
               s.sessions, s.users, s.late, options->out_dir.string(), seconds);
    fmt::print(stderr, "  {:<24}{:>12}{:>11}{:>12}\n", "file", "lines", "malformed", "duplicates");
    for (int k = 0; k < gen::kFileCount; ++k) {
      const gen::FileCounts& c = s.files[k];
      fmt::print(stderr, "  {:<24}{:>12}{:>11}{:>12}\n", gen::FileName(gen::FileKind(k)), c.lines, c.malformed,
                 c.duplicates);
    }
  });
}

}  // namespace clickflow::cli
