#pragma once
// An idempotent librdkafka producer (acks=all, lz4) tuned for throughput. librdkafka retries
// transient delivery failures itself for up to message.timeout.ms; what still fails after that
// is counted by the delivery report callback and reported by the caller.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace clickflow::kafka {

struct ProducerOptions {
  std::string bootstrap_servers;
  // Extra librdkafka properties, applied after ours (so they can override the tuning).
  std::map<std::string, std::string> properties;
};

// The producer properties clickflow uses (without bootstrap.servers); the bench passes the
// same ones to kcat and the Python client so the comparison is like for like.
const std::map<std::string, std::string>& DefaultProducerProperties();

// Counters of the delivery reports received so far.
struct DeliveryStats {
  uint64_t delivered = 0;
  uint64_t failed = 0;
  std::string first_error;  // text of the first failure, "" while none
};

class Producer {
 public:
  explicit Producer(const ProducerOptions& options);
  ~Producer();  // does not flush: call Flush() first, undelivered messages are dropped
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // A topic handle, so the per-message path does no name lookup. Owned by the producer.
  struct Topic;

  // Returns the handle of `name` after checking with the cluster that the topic exists
  // (auto-creation is off: a typo must not create a stray topic). Throws Error otherwise.
  Topic* OpenTopic(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // Queues one message; an empty key is sent as a null key. When librdkafka's local queue is
  // full this serves delivery reports until there is room, so it only returns once queued.
  // Zero-copy: `value` must stay valid until Flush() returns. The key is copied.
  void Produce(Topic* topic, std::string_view key, std::string_view value);
  void Produce(const std::string& topic, std::string_view key, std::string_view value);

  // Serves queued delivery reports without blocking.
  void Poll() const;

  // Waits until every queued message has its delivery report or `timeout` passes; messages
  // still outstanding then are counted as failed. Returns the stats after the wait.
  DeliveryStats Flush(std::chrono::milliseconds timeout);

  DeliveryStats Stats() const;

  // Messages queued but not yet reported.
  int OutstandingMessages() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace clickflow::kafka
