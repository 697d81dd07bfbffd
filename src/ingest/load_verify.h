#pragma once
// The two ingestion checks the Airflow DAGs run after loading (`clickflow ingest verify-load`,
// `clickflow ingest validate`): every line the run produced arrived once, and the dead-letter
// share stays low. One result per topic of the event schema, with the sentence the task logs.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ingest/offset_ranges.h"

namespace clickflow {

class ClickHouseClient;

struct TopicCheck {
  std::string topic;
  bool ok = false;
  std::string message;  // what was found, naming the topic, the file or table and the counts
};

// Lines holding at least one non-space character (what a producer sends); 0 for no file.
int64_t CountNonBlankLines(const std::filesystem::path& file);

// verify_data_load: each topic's <data_dir>/<topic>.jsonl exists and is not empty, this run
// produced at least as many offsets of the topic as the file has non-blank lines (others may
// produce to the same partitions meanwhile), and each offset of `produced` is in the staging
// table or in the dead letters exactly once. Rows of earlier runs do not count.
std::vector<TopicCheck> VerifyLoad(ClickHouseClient& client, const std::string& database,
                                   const std::filesystem::path& data_dir, const std::vector<OffsetRange>& produced);

// validate_ingestion: the dead-letter share of the lines each topic ingested in the last hour
// stays at or under 5% (the samples carry about 1%); more means a producer is sending what the
// loader cannot read.
std::vector<TopicCheck> ValidateIngestion(ClickHouseClient& client, const std::string& database);

}  // namespace clickflow
