package sparkembed;

import java.util.Arrays;

/**
 * Skip-gram with negative sampling over one block of (input word, output word) pairs, in
 * the order given: the word vectors of one bucket of the vocabulary and the context vectors
 * of one bucket, which no other task touches during the block (the schedule is in
 * sparkembed/stages/train/sgns.py).
 *
 * <p>The update is gensim's and word2vec.c's for one pair: the input word's vector l1 is
 * scored against the output word's context vector (label 1) and {@code negative} context
 * vectors drawn from the bucket's alias table of count^0.75 (label 0; a draw equal to the output word
 * is skipped); each score f gives g = (label - sigmoid(f)) * alpha, the context vector moves
 * by g * l1 and l1 by the sum of g * context (all in place: a row drawn twice sees its first
 * update). The sigmoid is word2vec.c's table. The dot products are summed in float in one
 * fixed order (8 lanes, see {@link #dot}) on every machine, so a run is repeatable and a
 * reference is easy to write.
 */
public final class SgnsBlock {
  private SgnsBlock() {}

  /** The loss is summed over every LOSS_EVERY-th pair of a block (a log per draw costs). */
  public static final int LOSS_EVERY = 16;

  /** Floats summed side by side in a dot product (one 256-bit vector). */
  static final int LANES = 8;

  /** Whether the Vector API is loaded (Spark's JVMs load it); otherwise the scalar loops. */
  static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  /**
   * sum(a[ao + k] * b[bo + k]), k < dim, in float, in one fixed order: lane l (0..7) adds
   * the products k = l mod 8 below the last multiple of 8, the lanes are added pairwise ((0 +
   * 1) + (2 + 3)) + ((4 + 5) + (6 + 7)), then the remaining products one by one. lanes: 8
   * floats of scratch.
   */
  static float dot(float[] a, int ao, float[] b, int bo, int dim, float[] lanes) {
    return VECTOR
        ? SgnsVectorOps.dot(a, ao, b, bo, dim, lanes)
        : dotScalar(a, ao, b, bo, dim, lanes);
  }

  static float dotScalar(float[] a, int ao, float[] b, int bo, int dim, float[] lanes) {
    int bound = dim - dim % LANES;
    Arrays.fill(lanes, 0f);
    for (int k = 0; k < bound; k += LANES) {
      for (int l = 0; l < LANES; l++) {
        lanes[l] = a[ao + k + l] * b[bo + k + l] + lanes[l];
      }
    }
    return finishDot(a, ao, b, bo, dim, bound, lanes);
  }

  /** {@link #dot} of two whole arrays without the Vector API (public for the tests). */
  public static float dotScalar(float[] a, float[] b, int dim, float[] lanes) {
    return dotScalar(a, 0, b, 0, dim, lanes);
  }

  /** {@link #dot} of two whole arrays on the Vector API (public for the tests). */
  public static float dotVector(float[] a, float[] b, int dim, float[] lanes) {
    return SgnsVectorOps.dot(a, 0, b, 0, dim, lanes);
  }

  static float finishDot(
      float[] a, int ao, float[] b, int bo, int dim, int bound, float[] lanes) {
    float s =
        ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for (int k = bound; k < dim; k++) {
      s += a[ao + k] * b[bo + k];
    }
    return s;
  }

  /** y[yo + k] += g * x[xo + k], k < n. */
  static void axpy(float g, float[] x, int xo, float[] y, int yo, int n) {
    if (VECTOR) {
      SgnsVectorOps.axpy(g, x, xo, y, yo, n);
      return;
    }
    for (int k = 0; k < n; k++) {
      y[yo + k] += g * x[xo + k];
    }
  }

  /** Scores beyond +-MAX_EXP take the sigmoid's limit, as in word2vec.c and gensim. */
  static final double MAX_EXP = 6.0;

  static final int SIGMOID_SIZE = 1000;

  /**
   * word2vec.c's sigmoid table: SIGMOID_SIZE bins over (-MAX_EXP, MAX_EXP), each holding
   * the sigmoid at its centre (StrictMath: the same on every JVM). A table read instead of
   * an exp per score.
   */
  static final double[] SIGMOID = sigmoidTable();

  private static double[] sigmoidTable() {
    double[] table = new double[SIGMOID_SIZE];
    for (int i = 0; i < SIGMOID_SIZE; i++) {
      double x = -MAX_EXP + (i + 0.5) * (2 * MAX_EXP / SIGMOID_SIZE);
      table[i] = 1.0 / (1.0 + StrictMath.exp(-x));
    }
    return table;
  }

  /** The table's sigmoid of a score (public for the tests). */
  public static double sigmoid(double f) {
    if (f >= MAX_EXP) {
      return 1.0;
    }
    if (f <= -MAX_EXP) {
      return 0.0;
    }
    return SIGMOID[(int) ((f + MAX_EXP) * (SIGMOID_SIZE / (2 * MAX_EXP)))];
  }

  /**
   * word2vec's LCG; each draw mixes its state with {@link #mix}, as the alias table reads
   * both halves of the value. The negative draws of a block are a function of its seed only.
   */
  static long nextRandom(long r) {
    return r * 25214903917L + 11L;
  }

  /**
   * Walker's alias table (Vose's construction) of the distribution weights[i] / sum(weights)
   * over a bucket's local indices: entry i holds, in its high 32 bits, the index that slot i
   * passes its draw to, and in its low 32 bits the threshold below which (of a uniform
   * 32-bit value) slot i keeps the draw. A draw is one uniform slot and one comparison, and
   * the table is 8 bytes a word (word2vec.c's table is 64 slots a word, read at random: a
   * cache miss per negative). Built in a fixed order with sequential sums, so it is the
   * same wherever it is built.
   */
  public static long[] aliasTable(double[] weights) {
    int n = weights.length;
    long[] table = new long[n];
    double total = 0.0;
    for (double x : weights) {
      total += x;
    }
    double[] scaled = new double[n];
    int[] small = new int[n];
    int[] large = new int[n];
    int smalls = 0;
    int larges = 0;
    for (int i = n - 1; i >= 0; i--) {
      scaled[i] = weights[i] * n / total;
      if (scaled[i] < 1.0) {
        small[smalls++] = i;
      } else {
        large[larges++] = i;
      }
    }
    while (smalls > 0 && larges > 0) {
      int s = small[--smalls];
      int l = large[--larges];
      table[s] = ((long) l << 32) | (long) Math.floor(scaled[s] * 0x1.0p32);
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0) {
        small[smalls++] = l;
      } else {
        large[larges++] = l;
      }
    }
    // What is left keeps every draw (rounding leaves either list non-empty).
    while (larges > 0) {
      int l = large[--larges];
      table[l] = ((long) l << 32) | 0xFFFFFFFFL;
    }
    while (smalls > 0) {
      int s = small[--smalls];
      table[s] = ((long) s << 32) | 0xFFFFFFFFL;
    }
    return table;
  }

  /** The local index an alias table gives for the 64-bit random value z. */
  static int draw(long[] table, long z) {
    int slot = (int) (((z >>> 32) * table.length) >>> 32);
    long entry = table[slot];
    return (z & 0xFFFFFFFFL) < (entry & 0xFFFFFFFFL) ? slot : (int) (entry >>> 32);
  }

  /**
   * Trains the pairs (in, out) = (pairs[p], pairs[m + p]) in order, m = pairs.length / 2;
   * {@code w}: the word vectors of the inputs' bucket, {@code c}: the context vectors of
   * the outputs' bucket, rows of {@code dim} floats, updated in place. The learning rate goes linearly from alphaFrom (first pair)
   * towards alphaTo (after the last). Returns the loss of every LOSS_EVERY-th pair (from
   * the first): -log sigmoid(f) of its positive plus -log sigmoid(-f) of its negatives.
   */
  public static double train(
      float[] w,
      float[] c,
      int dim,
      int[] pairs,
      long[] table,
      int negative,
      double alphaFrom,
      double alphaTo,
      long seed) {
    int m = pairs.length / 2;
    float[] neu1e = new float[dim];
    float[] lanes = new float[LANES];
    long random = seed;
    double loss = 0.0;
    for (int p = 0; p < m; p++) {
      float alpha = (float) (alphaFrom + (alphaTo - alphaFrom) * p / m);
      int l1 = pairs[p] * dim;
      int positive = pairs[m + p];
      Arrays.fill(neu1e, 0f);
      for (int d = 0; d <= negative; d++) {
        int target = positive;
        int label = 1;
        if (d > 0) {
          random = nextRandom(random);
          target = draw(table, mix(random));
          if (target == positive) {
            continue;
          }
          label = 0;
        }
        int l2 = target * dim;
        double f = dot(w, l1, c, l2, dim, lanes);
        if (p % LOSS_EVERY == 0) {
          // -log sigmoid(f) = log(1 + e^-f); -log sigmoid(-f) = f + log(1 + e^-f)
          loss += (label == 1 ? 0.0 : f) + Math.log1p(Math.exp(-f));
        }
        float g = (float) ((label - sigmoid(f)) * alpha);
        axpy(g, c, l2, neu1e, 0, dim);
        axpy(g, w, l1, c, l2, dim);
      }
      axpy(1f, neu1e, 0, w, l1, dim);
    }
    return loss;
  }

  /** splitmix64's finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Initial word vectors of the words {@code ids} (global vocabulary ids): element k of word
   * id is (u - 0.5) / dim, u uniform in [0, 1) from a hash of (seed, id, k), as gensim's
   * uniform(-0.5 / dim, 0.5 / dim) but a function of the word alone.
   */
  public static float[] initialWords(int[] ids, int dim, long seed) {
    float[] w = new float[ids.length * dim];
    for (int i = 0; i < ids.length; i++) {
      long base = mix(seed + 0x9E3779B97F4A7C15L * (ids[i] + 1L));
      for (int k = 0; k < dim; k++) {
        long z = mix(base + 0x9E3779B97F4A7C15L * (k + 1L));
        double u = (z >>> 11) * 0x1.0p-53;
        w[i * dim + k] = (float) ((u - 0.5) / dim);
      }
    }
    return w;
  }
}
