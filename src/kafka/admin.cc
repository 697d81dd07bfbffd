#include "kafka/admin.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <memory>

#include "common/error.h"
#include "kafka/client_conf.h"

namespace clickflow::kafka {

namespace {

template <auto Destroy>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    if (p) Destroy(p);
  }
};
using EventPtr = std::unique_ptr<rd_kafka_event_t, Deleter<rd_kafka_event_destroy>>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, Deleter<rd_kafka_queue_destroy>>;
using OptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, Deleter<rd_kafka_AdminOptions_destroy>>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, Deleter<rd_kafka_metadata_destroy>>;

rd_kafka_t* NewClient(const std::string& bootstrap_servers) {
  ClientConf conf("admin client");
  conf.Set("bootstrap.servers", bootstrap_servers);
  conf.Set("log_level", "3");  // errors only: a broker still starting is expected, not news
  return conf.NewClient(RD_KAFKA_PRODUCER);
}

MetadataPtr FetchMetadata(rd_kafka_t* rk, std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t rc = rd_kafka_metadata(rk, 1, nullptr, &md, static_cast<int>(timeout.count()));
  if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Error(std::string("Kafka metadata request failed: ") + rd_kafka_err2str(rc));
  }
  return MetadataPtr(md);
}

}  // namespace

struct Admin::Impl {
  rd_kafka_t* rk = nullptr;
  ~Impl() {
    if (rk) rd_kafka_destroy(rk);
  }

  // Runs one admin request and waits for its result event.
  EventPtr Await(rd_kafka_queue_t* queue, rd_kafka_event_type_t expected, std::chrono::milliseconds timeout) {
    EventPtr event(rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 5000));
    if (!event) throw Error("Kafka admin request timed out");
    if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Error(std::string("Kafka admin request failed: ") + rd_kafka_event_error_string(event.get()));
    }
    if (rd_kafka_event_type(event.get()) != expected) throw Error("unexpected Kafka admin result");
    return event;
  }

  OptionsPtr Options(rd_kafka_admin_op_t op, std::chrono::milliseconds timeout) {
    OptionsPtr options(rd_kafka_AdminOptions_new(rk, op));
    char err[512];
    rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), err, sizeof err);
    return options;
  }
};

Admin::Admin(const std::string& bootstrap_servers, std::chrono::milliseconds timeout)
    : impl_(new Impl), timeout_(timeout) {
  impl_->rk = NewClient(bootstrap_servers);
}

Admin::~Admin() { delete impl_; }

std::vector<std::string> Admin::CreateTopics(const std::vector<TopicSpec>& topics) {
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  auto cleanup = [&] { rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size()); };
  char err[512];
  for (const auto& spec : topics) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, spec.replication_factor, err, sizeof err);
    if (!nt) {
      cleanup();
      throw Error("topic " + spec.name + ": " + err);
    }
    new_topics.push_back(nt);
    for (const auto& [key, value] : spec.configs) rd_kafka_NewTopic_set_config(nt, key.c_str(), value.c_str());
  }
  QueuePtr queue(rd_kafka_queue_new(impl_->rk));
  OptionsPtr options = impl_->Options(RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), static_cast<int>(timeout_.count()), err, sizeof err);
  rd_kafka_CreateTopics(impl_->rk, new_topics.data(), new_topics.size(), options.get(), queue.get());
  cleanup();
  EventPtr event = impl_->Await(queue.get(), RD_KAFKA_EVENT_CREATETOPICS_RESULT, timeout_);

  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  std::vector<std::string> created;
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[i]);
    const std::string name = rd_kafka_topic_result_name(results[i]);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) {
      created.push_back(name);
    } else if (code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      throw Error("cannot create topic " + name + ": " + (msg ? msg : rd_kafka_err2str(code)));
    }
  }
  return created;
}

std::vector<std::string> Admin::ListTopics() {
  MetadataPtr md = FetchMetadata(impl_->rk, timeout_);
  std::vector<std::string> names;
  for (int i = 0; i < md->topic_cnt; ++i) {
    std::string name = md->topics[i].topic;
    if (!name.empty() && name[0] != '_') names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<TopicInfo> Admin::Describe(const std::vector<std::string>& names) {
  MetadataPtr md = FetchMetadata(impl_->rk, timeout_);
  std::vector<TopicInfo> out;
  for (const auto& name : names) {
    TopicInfo info{name, {}, {}};
    bool found = false;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const auto& t = md->topics[i];
      if (name != t.topic) continue;
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) break;
      found = true;
      for (int p = 0; p < t.partition_cnt; ++p) {
        const auto& part = t.partitions[p];
        PartitionInfo pi{part.id, part.leader, {}, {}};
        pi.replicas.assign(part.replicas, part.replicas + part.replica_cnt);
        pi.isrs.assign(part.isrs, part.isrs + part.isr_cnt);
        rd_kafka_query_watermark_offsets(impl_->rk, name.c_str(), part.id, &pi.low_watermark, &pi.high_watermark,
                                         static_cast<int>(timeout_.count()));
        info.partitions.push_back(pi);
      }
      std::sort(info.partitions.begin(), info.partitions.end(),
                [](const PartitionInfo& a, const PartitionInfo& b) { return a.id < b.id; });
    }
    if (!found) throw Error("topic " + name + " does not exist");
    out.push_back(std::move(info));
  }

  // Topic configs (retention.ms, ...) through DescribeConfigs.
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const auto& name : names)
    resources.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()));
  QueuePtr queue(rd_kafka_queue_new(impl_->rk));
  OptionsPtr options = impl_->Options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_);
  rd_kafka_DescribeConfigs(impl_->rk, resources.data(), resources.size(), options.get(), queue.get());
  rd_kafka_ConfigResource_destroy_array(resources.data(), resources.size());
  EventPtr event = impl_->Await(queue.get(), RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, timeout_);
  size_t count = 0;
  const rd_kafka_ConfigResource_t** results =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_ConfigResource_name(results[i]);
    if (rd_kafka_ConfigResource_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Error("cannot describe configs of " + name + ": " + rd_kafka_ConfigResource_error_string(results[i]));
    }
    size_t entry_count = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(results[i], &entry_count);
    for (auto& info : out) {
      if (info.name != name) continue;
      for (size_t e = 0; e < entry_count; ++e) {
        const char* value = rd_kafka_ConfigEntry_value(entries[e]);
        info.configs[rd_kafka_ConfigEntry_name(entries[e])] = value ? value : "";
      }
    }
  }
  return out;
}

bool BrokerAnswers(const std::string& bootstrap_servers, std::chrono::milliseconds timeout) {
  try {
    Admin admin(bootstrap_servers, timeout);
    admin.ListTopics();
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace clickflow::kafka
