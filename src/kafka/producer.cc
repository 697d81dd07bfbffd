#include "kafka/producer.h"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <mutex>

#include "common/error.h"
#include "common/log.h"
#include "kafka/client_conf.h"

namespace clickflow::kafka {

const std::map<std::string, std::string>& DefaultProducerProperties() {
  // Measured with bench/producer/run.sh (1M browser events, 364 MB, one local broker on 2
  // vCPUs): linger 5/10/20 ms x 10k/100k messages a batch all came out within noise (best of 3:
  // 1.26-1.38 s), as the broker's and our CPU is the limit there, not batching. 10 ms and up to
  // 100k messages / 1 MB a batch keep requests few on real networks. The partitioner is Java's
  // murmur2 (librdkafka's default is crc32): the same key lands on the same partition as from
  // Java clients, and it cost ~10% less client CPU than crc32 in the same runs.
  static const std::map<std::string, std::string> properties = {
      {"enable.idempotence", "true"},  // no duplicates or reordering from internal retries
      {"acks", "all"},
      {"compression.type", "lz4"},
      {"linger.ms", "10"},
      {"batch.size", "1000000"},
      {"batch.num.messages", "100000"},
      {"partitioner", "murmur2_random"},
      // Transient failures (leader moves, a broker restart) are retried inside this window;
      // only what is still undelivered after two minutes is reported as failed.
      {"message.timeout.ms", "120000"},
      {"retries", "2147483647"},
      {"retry.backoff.ms", "100"},
      // The platform's topics are created by `clickflow topics create`, never by a typo.
      {"allow.auto.create.topics", "false"},
  };
  return properties;
}

namespace {

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};

}  // namespace

struct Producer::Topic {
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> handle;
  std::string name;
};

struct Producer::Impl {
  rd_kafka_t* rk = nullptr;
  std::map<std::string, std::unique_ptr<Topic>> topics;
  // Delivery reports are served by rd_kafka_poll/flush on the producing thread, but Stats()
  // may be read from elsewhere (a progress display), so the counters are guarded.
  mutable std::mutex mu;
  DeliveryStats stats;

  ~Impl() {
    topics.clear();  // topic handles must go before the client
    if (rk) rd_kafka_destroy(rk);
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    std::lock_guard lock(self->mu);
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self->stats.delivered;
      return;
    }
    ++self->stats.failed;
    if (self->stats.first_error.empty()) {
      const char* topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : "?";
      self->stats.first_error = std::string(topic) + ": " + rd_kafka_err2str(msg->err);
    }
  }

  static void OnLog(const rd_kafka_t*, int level, const char* facility, const char* message) {
    // librdkafka logs from its own threads (spdlog is thread-safe). Its warnings are mostly
    // transient states it retries through (a broker still loading its coordinator, a leader
    // moving), so they are debug news; errors (brokers down) are shown as warnings, since
    // what really failed is counted per message and reported at the end.
    if (level <= 3) {
      spdlog::warn("kafka {}: {}", facility, message);
    } else {
      spdlog::debug("kafka {}: {}", facility, message);
    }
  }
};

Producer::Producer(const ProducerOptions& options) : impl_(new Impl) {
  std::unique_ptr<Impl> guard(impl_);
  ClientConf conf("producer");
  auto set = [&conf](const std::string& key, const std::string& value) { conf.Set(key, value); };
  set("bootstrap.servers", options.bootstrap_servers);
  for (const auto& [key, value] : DefaultProducerProperties()) set(key, value);
  for (const auto& [key, value] : options.properties) set(key, value);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::OnDelivery);
  rd_kafka_conf_set_log_cb(conf.get(), &Impl::OnLog);
  rd_kafka_conf_set_opaque(conf.get(), impl_);
  impl_->rk = conf.NewClient(RD_KAFKA_PRODUCER);
  static_cast<void>(guard.release());  // impl_ keeps it: constructed, the destructor deletes it
}

Producer::~Producer() { delete impl_; }

Producer::Topic* Producer::OpenTopic(const std::string& name, std::chrono::milliseconds timeout) {
  if (auto it = impl_->topics.find(name); it != impl_->topics.end()) return it->second.get();
  auto topic = std::make_unique<Topic>();
  topic->name = name;
  topic->handle.reset(rd_kafka_topic_new(impl_->rk, name.c_str(), nullptr));
  if (!topic->handle) {
    throw Error("cannot open topic " + name + ": " + rd_kafka_err2str(rd_kafka_last_error()));
  }
  // Without this check a missing topic would only show after topic.metadata.propagation.max.ms
  // as one failure per message; an unreachable broker only after message.timeout.ms.
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t rc =
      rd_kafka_metadata(impl_->rk, 0, topic->handle.get(), &raw, static_cast<int>(timeout.count()));
  std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> md(raw);
  if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Error("cannot reach Kafka at the configured bootstrap servers to look up topic " + name + ": " +
                rd_kafka_err2str(rc));
  }
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (name != md->topics[i].topic) continue;
    rd_kafka_resp_err_t terr = md->topics[i].err;
    if (terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      throw Error("topic " + name + " does not exist (create it first, e.g. `clickflow topics create`)");
    }
    if (terr != RD_KAFKA_RESP_ERR_NO_ERROR) throw Error("topic " + name + ": " + rd_kafka_err2str(terr));
    Topic* out = topic.get();
    impl_->topics.emplace(name, std::move(topic));
    return out;
  }
  throw Error("topic " + name + " does not exist (create it first, e.g. `clickflow topics create`)");
}

void Producer::Produce(Topic* topic, std::string_view key, std::string_view value) {
  // No RD_KAFKA_MSG_F_COPY: the payload is referenced in place (the caller keeps it alive until
  // Flush), which saves copying every line once more before it is compressed anyway.
  for (;;) {
    int rc = rd_kafka_produce(topic->handle.get(), RD_KAFKA_PARTITION_UA, 0, const_cast<char*>(value.data()),
                              value.size(), key.empty() ? nullptr : key.data(), key.size(), nullptr);
    if (rc == 0) return;
    rd_kafka_resp_err_t err = rd_kafka_last_error();
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      throw Error("cannot queue a message for " + topic->name + ": " + rd_kafka_err2str(err));
    }
    // The local queue is full: serve delivery reports (which frees room) and try again.
    rd_kafka_poll(impl_->rk, 10);
  }
}

void Producer::Produce(const std::string& topic, std::string_view key, std::string_view value) {
  Produce(OpenTopic(topic), key, value);
}

void Producer::Poll() const { rd_kafka_poll(impl_->rk, 0); }

DeliveryStats Producer::Flush(std::chrono::milliseconds timeout) {
  rd_kafka_flush(impl_->rk, static_cast<int>(timeout.count()));
  const int left = rd_kafka_outq_len(impl_->rk);
  if (left > 0) {
    // Give up on what is still queued or in flight: purging makes librdkafka report each of
    // those messages as failed, so nothing goes missing from the counts.
    spdlog::warn("{} messages still undelivered after {} ms, giving up on them", left, timeout.count());
    {
      std::lock_guard lock(impl_->mu);
      if (impl_->stats.first_error.empty()) {
        impl_->stats.first_error =
            std::to_string(left) + " messages not delivered within " + std::to_string(timeout.count()) + " ms";
      }
    }
    rd_kafka_purge(impl_->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(impl_->rk, 5000);
  }
  return Stats();
}

DeliveryStats Producer::Stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

int Producer::OutstandingMessages() const { return rd_kafka_outq_len(impl_->rk); }

}  // namespace clickflow::kafka
