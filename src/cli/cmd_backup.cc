// `clickflow backup --to DIR` and `clickflow restore --from DIR`: a self-contained backup of a
// running stack (ClickHouse tables as Native files, Airflow's and Superset's databases as
// pg_dump archives, secrets, config) and its restore into an empty data dir. See
// src/backup/backup.h, src/backup/restore.h and "Backup and restore" in docs/operations.md.
#include <fmt/format.h>

#include <iostream>

#include "backup/backup.h"
#include "backup/restore.h"
#include "cli/commands.h"
#include "stack/stack_manager.h"

namespace clickflow::cli {

void RegisterBackup(CLI::App& app, GlobalOptions& global) {
  auto* backup = app.add_subcommand("backup", "write a self-contained backup of the running stack");
  auto to = std::make_shared<std::string>();
  auto no_compress = std::make_shared<bool>(false);
  backup->add_option("--to", *to, "new or empty folder for the backup (created 0700)")->required();
  backup->add_flag("--no-compress", *no_compress, "store the ClickHouse data uncompressed (default: gzip)");
  backup->callback([&global, to, no_compress] {
    Config config = global.LoadConfig();
    std::cout << "backup of " << config.data_dir.string() << " to " << *to << "\n" << std::flush;
    backup::BackupOptions options;
    options.compress = !*no_compress;
    const backup::BackupSummary s = backup::RunBackup(config, *to, options);
    int64_t rows = 0;
    for (const auto& t : s.manifest.tables) rows += t.rows;
    std::cout << fmt::format("backup done: {} tables ({} rows), {} databases, {} files, {:.1f} MB in {:.1f} s\n",
                             s.manifest.tables.size(), rows, s.manifest.postgres_databases.size(),
                             s.manifest.files.size() + 1, s.bytes / 1048576.0, s.seconds);
  });

  auto* restore = app.add_subcommand("restore", "restore a backup into an empty data dir");
  auto from = std::make_shared<std::string>();
  restore->add_option("--from", *from, "folder written by `clickflow backup`")->required();
  restore->callback([&global, from] {
    Config config = global.LoadConfig();
    std::cout << "restore of " << *from << " into " << config.data_dir.string() << "\n" << std::flush;
    const backup::StackControl stack_control{&stack::StackUp, &stack::StackDown};
    const backup::RestoreSummary s = backup::RunRestore(config, *from, stack_control);
    std::cout << fmt::format("restore done: {} tables ({} rows, counts match the backup), {} databases in {:.1f} s\n",
                             s.manifest.tables.size(), s.rows, s.manifest.postgres_databases.size(), s.seconds);
    std::cout << "next: `clickflow stack up` (Airflow and Superset start on the restored metadata), then\n"
                 "      `clickflow topics create` and `clickflow load` resume from the offsets recorded in ClickHouse\n"
                 "      (see \"Backup and restore\" in docs/operations.md about Kafka)\n";
  });
}

}  // namespace clickflow::cli
