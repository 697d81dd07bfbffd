#pragma once
// The two ingestion checks the Airflow DAGs run after loading (`clickflow ingest verify-load`,
// `clickflow ingest validate`): every line of the loaded files arrived, and the dead-letter
// share stays low. One result per topic of the event schema, with the sentence the task logs.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace clickflow {

class ClickHouseClient;

struct TopicCheck {
  std::string topic;
  bool ok = false;
  std::string message;  // what was found, naming the topic, the file or table and the counts
};

// Lines holding at least one non-space character (what a producer sends); 0 for no file.
int64_t CountNonBlankLines(const std::filesystem::path& file);

// verify_data_load: each topic's <data_dir>/<topic>.jsonl exists, is not empty, and each of its
// non-blank lines is in the staging table or in the dead letters. At least, not exactly: a file
// replayed is harmless, since the warehouse keys events by event_id.
std::vector<TopicCheck> VerifyLoad(ClickHouseClient& client, const std::string& database,
                                   const std::filesystem::path& data_dir);

// validate_ingestion: the dead-letter share of the lines each topic ingested in the last hour
// stays at or under 5% (the samples carry about 1%); more means a producer is sending what the
// loader cannot read.
std::vector<TopicCheck> ValidateIngestion(ClickHouseClient& client, const std::string& database);

}  // namespace clickflow
