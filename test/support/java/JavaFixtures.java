// Test fixtures written by Apache Kafka's own Java producer, so that our reader is checked against bytes that
// did not come from our client. Java 17 source-launch mode, with the ground's broker jars on the class path:
//
//   java -cp '<kafka lib>/*' JavaFixtures.java <bootstrap> <topicPrefix> <outJson>
//
// It creates its topics, writes them, and writes <outJson>: every record it sent with the offset and timestamp
// the broker acknowledged (RecordMetadata), plus what the broker holds of the compacted topic afterwards.
// Bytes are base64 in the JSON; null stays null.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

public class JavaFixtures {
  /** 2023-11-14T22:13:20Z: explicit CreateTime timestamps are this plus a few ms. */
  static final long T0 = 1_700_000_000_000L;
  static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};
  static final long COMPACTION_WAIT_MS = 20_000;

  record Sent(String topic, String group, String note, ProducerRecord<byte[], byte[]> rec, Future<RecordMetadata> ack) {}

  final String bootstrap;
  final String prefix;
  final Admin admin;
  final List<Sent> sent = new ArrayList<>();
  final List<RecordMetadata> acks = new ArrayList<>();
  final StringBuilder topicsJson = new StringBuilder();
  final StringBuilder extraJson = new StringBuilder();

  JavaFixtures(String bootstrap, String prefix) {
    this.bootstrap = bootstrap;
    this.prefix = prefix;
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    this.admin = Admin.create(p);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: JavaFixtures <bootstrap> <topicPrefix> <outJson>");
      System.exit(2);
    }
    long started = System.currentTimeMillis();
    JavaFixtures f = new JavaFixtures(args[0], args[1]);
    try {
      long t = System.currentTimeMillis();
      for (String codec : CODECS) f.codecTopic(codec);
      t = f.phase("codecs", t);
      f.logAppendTimeTopic();
      t = f.phase("logAppendTime", t);
      f.transactionalTopic();
      t = f.phase("transactions", t);
      f.compactedTopic();
      f.phase("compaction", t);
      f.write(Path.of(args[2]), System.currentTimeMillis() - started);
    } finally {
      f.admin.close();
    }
  }

  final StringBuilder phasesJson = new StringBuilder();

  long phase(String name, long since) {
    long now = System.currentTimeMillis();
    phasesJson.append(phasesJson.length() == 0 ? "" : ",").append(str(name)).append(':').append(now - since);
    return now;
  }

  // ---------------------------------------------------------------- topics

  String createTopic(String suffix, String kind, String codec, Map<String, String> configs) throws Exception {
    String name = prefix + "-" + suffix;
    if (!configs.containsKey("cleanup.policy")) {
      // The explicit timestamps are years old: under the default 7-day retention.ms the broker would delete
      // their segment as soon as it rolls (which the same old timestamps make it do on the next append).
      configs = new LinkedHashMap<>(configs);
      configs.put("retention.ms", "-1");
    }
    admin.createTopics(List.of(new NewTopic(name, 1, (short) 1).configs(configs))).all().get();
    // Metadata reaches the producer a moment later; the producer waits for it (max.block.ms).
    if (topicsJson.length() > 0) topicsJson.append(",\n    ");
    topicsJson.append("{\"name\":").append(str(name)).append(",\"kind\":").append(str(kind))
        .append(",\"codec\":").append(str(codec)).append(",\"configs\":{");
    boolean first = true;
    for (Map.Entry<String, String> e : configs.entrySet()) {
      if (!first) topicsJson.append(',');
      first = false;
      topicsJson.append(str(e.getKey())).append(':').append(str(e.getValue()));
    }
    topicsJson.append("}}");
    return name;
  }

  KafkaProducer<byte[], byte[]> producer(String codec, String transactionalId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    // Everything sent before a flush goes out in one batch, so compressed batches hold several records.
    p.put(ProducerConfig.LINGER_MS_CONFIG, "1000");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(2 * 1024 * 1024));
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(8 * 1024 * 1024));
    if (transactionalId != null) p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    return new KafkaProducer<>(p);
  }

  void send(KafkaProducer<byte[], byte[]> producer, String topic, String group, String note, Long timestamp,
      byte[] key, byte[] value, Header... headers) {
    ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(topic, 0, timestamp, key, value, List.of(headers));
    sent.add(new Sent(topic, group, note, rec, producer.send(rec)));
  }

  static Header h(String key, byte[] value) {
    return new RecordHeader(key, value);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Every byte value, then a deterministic pseudo-random tail: not valid UTF-8, barely compressible. */
  static byte[] binary(int length, long seed) {
    byte[] b = new byte[length];
    long x = seed;
    for (int i = 0; i < length; i++) {
      if (i < 256) {
        b[i] = (byte) i;
      } else {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        b[i] = (byte) x;
      }
    }
    return b;
  }

  /** Text that compresses well: compressed batches are really smaller than their records. */
  static byte[] text(String tag, int length) {
    StringBuilder sb = new StringBuilder(length + 64);
    for (int i = 0; sb.length() < length; i++) sb.append(tag).append(" line ").append(i).append(" lorem ipsum dolor sit amet\n");
    sb.setLength(length);
    return utf8(sb.toString());
  }

  void codecTopic(String codec) throws Exception {
    String topic = createTopic("codec-" + codec, "codec", codec, Map.of());
    try (KafkaProducer<byte[], byte[]> p = producer(codec, null)) {
      // Batch 1: the record shapes a backup must keep apart.
      send(p, topic, "codec", "plain", T0, utf8("k-plain"), utf8("hello " + codec));
      send(p, topic, "codec", "headers a,b,a with a null value", T0 + 1, utf8("k-headers"), utf8("v-headers"),
          h("a", utf8("first a")), h("b", null), h("a", utf8("second a")));
      send(p, topic, "codec", "null key", T0 + 2, null, utf8("value of a null key"));
      send(p, topic, "codec", "empty key", T0 + 3, new byte[0], utf8("value of an empty key"));
      send(p, topic, "codec", "tombstone (null value)", T0 + 4, utf8("k-tombstone"), null);
      send(p, topic, "codec", "empty value", T0 + 5, utf8("k-empty-value"), new byte[0]);
      send(p, topic, "codec", "null key and null value", T0 + 6, null, null, h("empty", new byte[0]));
      send(p, topic, "codec", "binary key, value and header", T0 + 7, binary(300, 1), binary(1000, 2),
          h("bin", binary(256, 3)), h("ü-ключ-🔑", utf8("unicode header key")));
      send(p, topic, "codec", "timestamp far in the past", 1_262_304_000_000L, utf8("k-2010"), utf8("2010-01-01"));
      send(p, topic, "codec", "timestamp out of order", T0 - 1, utf8("k-earlier"), utf8("earlier than batch start"));
      p.flush();
      // Batch 2: large-ish values, the producer picks the timestamps.
      send(p, topic, "codec", "16 KiB text", null, utf8("k-16k"), text(codec + "-16k", 16 * 1024));
      send(p, topic, "codec", "100 KiB text", null, utf8("k-100k"), text(codec + "-100k", 100 * 1024));
      send(p, topic, "codec", "8 KiB binary", null, utf8("k-8k-bin"), binary(8 * 1024, 4));
      send(p, topic, "codec", "600 KiB text", null, utf8("k-600k"), text(codec + "-600k", 600 * 1024),
          h("size", utf8("600k")));
      p.flush();
    }
  }

  void logAppendTimeTopic() throws Exception {
    String topic = createTopic("log-append-time", "log-append-time", "none",
        Map.of("message.timestamp.type", "LogAppendTime"));
    try (KafkaProducer<byte[], byte[]> p = producer("none", null)) {
      // The broker replaces these timestamps with its own clock; RecordMetadata reports the broker's.
      for (int i = 0; i < 3; i++) send(p, topic, "log-append-time", "log append time " + i, T0 + i, utf8("k" + i), utf8("v" + i));
      p.flush();
    }
  }

  // ---------------------------------------------------------------- transactions

  long[] offsets(String topic) throws Exception {
    TopicPartition tp = new TopicPartition(topic, 0);
    long lso = admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
        .partitionResult(tp).get().offset();
    long hw = admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
        .partitionResult(tp).get().offset();
    long start = admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get().offset();
    return new long[] {start, lso, hw};
  }

  /**
   * The broker answers EndTxn before the coordinator has written the markers. Once no transaction is open the
   * last stable offset equals the high watermark, i.e. the marker is in the log.
   */
  void waitForMarkers(String topic) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    while (true) {
      long[] o = offsets(topic);
      if (o[1] == o[2]) return;
      if (System.currentTimeMillis() > deadline) throw new IllegalStateException("markers of " + topic + " not written in 10 s");
      Thread.sleep(20);
    }
  }

  void transactionalTopic() throws Exception {
    String topic = createTopic("transactional", "transactional", "lz4", Map.of());
    try (KafkaProducer<byte[], byte[]> p = producer("lz4", prefix + "-txid")) {
      p.initTransactions();

      p.beginTransaction();
      send(p, topic, "committed", "tx 1 record 1", T0 + 100, utf8("c1"), utf8("committed 1"), h("tx", utf8("1")));
      send(p, topic, "committed", "tx 1 record 2", T0 + 101, null, utf8("committed 2"));
      send(p, topic, "committed", "tx 1 tombstone", T0 + 102, utf8("c3"), null);
      p.commitTransaction();
      waitForMarkers(topic);

      p.beginTransaction();
      send(p, topic, "aborted", "tx 2 record 1", T0 + 200, utf8("a1"), utf8("aborted 1"), h("tx", utf8("2")));
      send(p, topic, "aborted", "tx 2 record 2", T0 + 201, utf8("a2"), text("aborted", 4096));
      send(p, topic, "aborted", "tx 2 record 3", T0 + 202, utf8("a3"), new byte[0]);
      // abortTransaction drops records not yet sent: flush first so they are in the log (and acknowledged).
      p.flush();
      p.abortTransaction();
      waitForMarkers(topic);

      p.beginTransaction();
      send(p, topic, "committed", "tx 3 record 1", T0 + 300, utf8("c4"), utf8("committed 4"), h("tx", utf8("3")), h("tx", null));
      send(p, topic, "committed", "tx 3 record 2", T0 + 301, utf8("c5"), text("committed", 4096));
      p.commitTransaction();
      waitForMarkers(topic);
    }
    long[] o = offsets(topic);
    extraJson.append(",\n  \"transactional\":{\"topic\":").append(str(topic)).append(",\"logStart\":").append(o[0])
        .append(",\"lastStable\":").append(o[1]).append(",\"highWatermark\":").append(o[2]).append('}');
  }

  // ---------------------------------------------------------------- compaction

  void compactedTopic() throws Exception {
    Map<String, String> configs = new LinkedHashMap<>();
    configs.put("cleanup.policy", "compact");
    configs.put("segment.ms", "100");
    configs.put("min.cleanable.dirty.ratio", "0.01");
    configs.put("min.compaction.lag.ms", "0");
    configs.put("max.compaction.lag.ms", "100");
    // Tombstones stay a day: the compacted log keeps the last tombstone of a key.
    configs.put("delete.retention.ms", "86400000");
    String topic = createTopic("compacted", "compacted", "none", configs);
    Map<String, Long> lastOffsetOfKey = new LinkedHashMap<>();
    int from = sent.size();
    try (KafkaProducer<byte[], byte[]> p = producer("none", null)) {
      for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 5; k++) {
          String key = "key-" + k;
          byte[] value = utf8(key + " round " + round);
          if (round == 1 && k == 3) value = null; // tombstone, then a value again in round 2
          if (round == 2 && k == 1) value = null; // final tombstone: kept
          if (round == 2 && k == 4) continue; // key-4 ends on its round-1 value
          send(p, topic, "compacted", key + " round " + round, T0 + round * 10 + k, utf8(key), value,
              h("round", utf8(String.valueOf(round))));
        }
        p.flush();
        // segment.ms: the next append after this rolls the segment, which makes the previous one cleanable.
        Thread.sleep(150);
      }
      // The active segment is never cleaned: this record closes the last one written above.
      send(p, topic, "compacted", "tail (rolls the segment)", null, utf8("tail"), utf8("tail"));
      p.flush();
    }
    for (int i = from; i < sent.size(); i++) {
      Sent s = sent.get(i);
      lastOffsetOfKey.put(new String(s.rec().key(), StandardCharsets.UTF_8), s.ack().get().offset());
    }
    TreeSet<Long> survivors = new TreeSet<>(lastOffsetOfKey.values());

    // Wait (bounded) until Kafka's own consumer sees only the last record of each key.
    long started = System.currentTimeMillis();
    TreeSet<Long> held;
    while (true) {
      held = heldOffsets(topic);
      if (held.equals(survivors) || System.currentTimeMillis() - started > COMPACTION_WAIT_MS) break;
      Thread.sleep(250);
    }
    long[] o = offsets(topic);
    extraJson.append(",\n  \"compacted\":{\"topic\":").append(str(topic))
        .append(",\"fullyCompacted\":").append(held.equals(survivors))
        .append(",\"waitedMs\":").append(System.currentTimeMillis() - started)
        .append(",\"logStart\":").append(o[0]).append(",\"highWatermark\":").append(o[2])
        .append(",\"survivors\":").append(survivors).append(",\"heldByJavaConsumer\":").append(held).append('}');
  }

  TreeSet<Long> heldOffsets(String topic) throws Exception {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    TopicPartition tp = new TopicPartition(topic, 0);
    long end = offsets(topic)[2];
    TreeSet<Long> held = new TreeSet<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long deadline = System.currentTimeMillis() + 10_000;
      while (c.position(tp) < end) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("could not read " + topic);
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) held.add(r.offset());
      }
    }
    return held;
  }

  // ---------------------------------------------------------------- JSON

  static String str(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        default -> {
          if (ch < 0x20) sb.append(String.format("\\u%04x", (int) ch));
          else sb.append(ch);
        }
      }
    }
    return sb.append('"').toString();
  }

  static String b64(byte[] b) {
    return b == null ? "null" : "\"" + Base64.getEncoder().encodeToString(b) + "\"";
  }

  void write(Path out, long elapsedMs) throws Exception {
    StringBuilder sb = new StringBuilder();
    sb.append("{\n  \"kafkaClientsVersion\":").append(str(AppInfoParser.getVersion()));
    sb.append(",\n  \"elapsedMs\":").append(elapsedMs);
    sb.append(",\n  \"phasesMs\":{").append(phasesJson).append('}');
    sb.append(",\n  \"topics\":[\n    ").append(topicsJson).append("\n  ]");
    sb.append(extraJson);
    sb.append(",\n  \"records\":[");
    for (int i = 0; i < sent.size(); i++) {
      Sent s = sent.get(i);
      RecordMetadata m = s.ack().get();
      sb.append(i == 0 ? "\n    " : ",\n    ");
      sb.append("{\"topic\":").append(str(s.topic())).append(",\"partition\":").append(m.partition())
          .append(",\"offset\":").append(m.offset()).append(",\"timestamp\":").append(m.timestamp())
          .append(",\"group\":").append(str(s.group())).append(",\"note\":").append(str(s.note()))
          .append(",\"key\":").append(b64(s.rec().key())).append(",\"value\":").append(b64(s.rec().value()))
          .append(",\"headers\":[");
      boolean first = true;
      for (Header h : s.rec().headers()) {
        if (!first) sb.append(',');
        first = false;
        sb.append("{\"key\":").append(str(h.key())).append(",\"value\":").append(b64(h.value())).append('}');
      }
      sb.append("]}");
    }
    sb.append("\n  ]\n}\n");
    Files.writeString(out, sb.toString());
  }
}
