import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaDStream;
import org.apache.spark.streaming.api.java.JavaPairDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;
import org.apache.spark.streaming.scheduler.StreamingListener;
import org.apache.spark.streaming.scheduler.StreamingListenerBatchCompleted;
import scala.Tuple2;

/**
 * The Spark Streaming contender of `npm run bench -- --peers`: the word count as a DStream job at
 * local[2], on the same input files as every other contender.
 *
 * <pre>
 *   WordCountPeer batches &lt;interval_ms&gt; &lt;total&gt; &lt;window_batches&gt; &lt;file&gt;...
 *   WordCountPeer socket &lt;interval_ms&gt; &lt;host&gt; &lt;port&gt; &lt;expected_words&gt;
 * </pre>
 *
 * Batches: batch i is file i % files, each file an RDD cached (and counted) before the context
 * starts, so the queue input serves blocks already in memory as a receiver's would be. Each
 * batch's time is Spark's processing delay for it. Prints one JSON line per batch, or one line
 * when the socket run has counted every word.
 */
public final class WordCountPeer {
  private WordCountPeer() {}

  /**
   * FNV-1a 64 of the word's UTF-8 bytes; the digest sums its halves times the count (mod 2^32),
   * as every contender does. Returns {hi, lo, words, distinct} of one partition.
   */
  static long[] digest(Iterator<Tuple2<String, Integer>> counts) {
    int hi = 0;
    int lo = 0;
    long words = 0;
    long distinct = 0;
    while (counts.hasNext()) {
      Tuple2<String, Integer> pair = counts.next();
      int count = pair._2();
      if (count == 0) continue;
      long h = 0xcbf29ce484222325L;
      for (byte b : pair._1().getBytes(StandardCharsets.UTF_8)) {
        h = (h ^ (b & 0xff)) * 0x100000001b3L;
      }
      hi += (int) (h >>> 32) * count;
      lo += (int) h * count;
      words += count;
      distinct++;
    }
    return new long[] {hi, lo, words, distinct};
  }

  static long[] digest(JavaPairRDD<String, Integer> counts) {
    long[] total = new long[4];
    for (long[] part :
        counts.mapPartitions(it -> List.of(digest(it)).iterator()).collect()) {
      for (int i = 0; i < 4; i++) total[i] += part[i];
    }
    return total;
  }

  static String text(long[] d, boolean withDistinct) {
    return String.format(
        "%s distinct, %d words, %08x%08x",
        withDistinct ? Long.toString(d[3]) : "-", d[2], (int) d[0], (int) d[1]);
  }

  static JavaPairDStream<String, Integer> pairs(JavaDStream<String> lines) {
    return lines
        .flatMap(line -> Arrays.asList(line.split(" ")).iterator())
        .mapToPair(word -> new Tuple2<>(word, 1));
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    long interval = Long.parseLong(args[1]);
    SparkConf conf =
        new SparkConf()
            .setMaster("local[2]")
            .setAppName("sluice-peer-word-count")
            .set("spark.ui.enabled", "false");
    JavaStreamingContext ssc = new JavaStreamingContext(conf, Durations.milliseconds(interval));
    ssc.sparkContext().setLogLevel("ERROR");
    CountDownLatch done = new CountDownLatch(1);
    if (mode.equals("batches")) {
      int total = Integer.parseInt(args[2]);
      int window = Integer.parseInt(args[3]);
      List<JavaRDD<String>> files = new ArrayList<>();
      for (int i = 4; i < args.length; i++) {
        JavaRDD<String> rdd =
            ssc.sparkContext()
                .parallelize(Files.readAllLines(Path.of(args[i])), 2)
                .persist(StorageLevel.MEMORY_ONLY());
        rdd.count();
        files.add(rdd);
      }
      Queue<JavaRDD<String>> queue = new LinkedList<>();
      for (int i = 0; i < total; i++) queue.add(files.get(i % files.size()));
      JavaPairDStream<String, Integer> pairs = pairs(ssc.queueStream(queue, true));
      JavaPairDStream<String, Integer> counts;
      if (window == 0) {
        counts = pairs.reduceByKey(Integer::sum);
      } else {
        // The incremental window (its inverse needs checkpointing), dropping zero counts.
        ssc.checkpoint(Files.createTempDirectory("spark-peer-checkpoint").toString());
        counts =
            pairs.reduceByKeyAndWindow(
                Integer::sum,
                (a, b) -> a - b,
                Durations.milliseconds(interval * window),
                Durations.milliseconds(interval),
                2,
                pair -> pair._2() != 0);
      }
      Map<Long, String> digests = new ConcurrentHashMap<>();
      counts.foreachRDD((rdd, time) -> digests.put(time.milliseconds(), text(digest(rdd), true)));
      ssc.addStreamingListener(
          new StreamingListener() {
            private int batch = 0;

            @Override
            public void onBatchCompleted(StreamingListenerBatchCompleted completed) {
              long time = completed.batchInfo().batchTime().milliseconds();
              Object delay = completed.batchInfo().processingDelay().get();
              System.out.printf(
                  "{\"batch\":%d,\"ms\":%d,\"digest\":\"%s\"}%n",
                  batch, (Long) delay, digests.remove(time));
              System.out.flush();
              if (++batch == total) done.countDown();
            }
          });
      ssc.start();
      done.await();
    } else {
      String host = args[2];
      int port = Integer.parseInt(args[3]);
      long expected = Long.parseLong(args[4]);
      long[] sum = new long[4];
      pairs(ssc.socketTextStream(host, port))
          .reduceByKey(Integer::sum)
          .foreachRDD(
              rdd -> {
                long[] d = digest(rdd);
                for (int i = 0; i < 4; i++) sum[i] += d[i];
                if (sum[2] >= expected && done.getCount() > 0) {
                  System.out.printf(
                      "{\"endMs\":%d,\"digest\":\"%s\"}%n",
                      System.currentTimeMillis(), text(sum, false));
                  System.out.flush();
                  done.countDown();
                }
              });
      ssc.start();
      done.await();
    }
    ssc.stop(true, false);
    System.exit(0);
  }
}
