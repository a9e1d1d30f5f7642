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
 * vectors drawn from the bucket's unigram table (label 0; a draw equal to the output word
 * is skipped); each score f gives g = (label - sigmoid(f)) * alpha, the context vector moves
 * by g * l1 and l1 by the sum of g * context. Two choices make a run repeatable and a
 * reference easy to write: the dot products are summed in float in one fixed order (8
 * lanes, see {@link #dot}) on every machine, and sigmoid is computed, not read from a table.
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
   * sum(a[k] * b[k]), k < dim, in float, in one fixed order: lane l (0..7) adds the products
   * k = l mod 8 below the last multiple of 8, the lanes are added pairwise ((0 + 1) + (2 +
   * 3)) + ((4 + 5) + (6 + 7)), then the remaining products one by one. lanes: 8 floats of
   * scratch.
   */
  static float dot(float[] a, float[] b, int dim, float[] lanes) {
    return VECTOR ? SgnsVectorOps.dot(a, b, dim, lanes) : dotScalar(a, b, dim, lanes);
  }

  /** {@link #dot} without the Vector API (public for the tests, which compare the two). */
  public static float dotScalar(float[] a, float[] b, int dim, float[] lanes) {
    int bound = dim - dim % LANES;
    Arrays.fill(lanes, 0f);
    for (int k = 0; k < bound; k += LANES) {
      for (int l = 0; l < LANES; l++) {
        lanes[l] = a[k + l] * b[k + l] + lanes[l];
      }
    }
    return finishDot(a, b, dim, bound, lanes);
  }

  /** {@link #dot} on the Vector API (public for the tests). */
  public static float dotVector(float[] a, float[] b, int dim, float[] lanes) {
    return SgnsVectorOps.dot(a, b, dim, lanes);
  }

  static float finishDot(float[] a, float[] b, int dim, int bound, float[] lanes) {
    float s =
        ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for (int k = bound; k < dim; k++) {
      s += a[k] * b[k];
    }
    return s;
  }

  /** y[k] += g * x[k], k < n. */
  static void axpy(float g, float[] x, float[] y, int n) {
    if (VECTOR) {
      SgnsVectorOps.axpy(g, x, y, n);
      return;
    }
    for (int k = 0; k < n; k++) {
      y[k] += g * x[k];
    }
  }

  /** word2vec's LCG: the negative draws of a block are a function of its seed only. */
  static long nextRandom(long r) {
    return r * 25214903917L + 11L;
  }

  /**
   * word2vec.c's unigram table over a bucket: local index i fills a share of the {@code
   * size} slots equal to weights[i] / sum(weights) (weights: count^0.75), in index order.
   * Sums are sequential, so the table is the same wherever it is built.
   */
  public static int[] unigramTable(double[] weights, int size) {
    int[] table = new int[size];
    int n = weights.length;
    if (n == 0) {
      return table;
    }
    double total = 0.0;
    for (double x : weights) {
      total += x;
    }
    int i = 0;
    double cumulative = weights[0] / total;
    for (int a = 0; a < size; a++) {
      table[a] = i;
      if ((a + 1.0) / size > cumulative && i < n - 1) {
        i++;
        cumulative += weights[i] / total;
      }
    }
    return table;
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
      int[] table,
      int negative,
      double alphaFrom,
      double alphaTo,
      long seed) {
    int m = pairs.length / 2;
    int slots = negative + 1;
    float[] neu1e = new float[dim];
    float[] l1v = new float[dim];
    float[] lanes = new float[LANES];
    float[][] rows = new float[slots][dim];
    int[] labels = new int[slots];
    int[] slotOf = new int[slots];
    int[] rowOfSlot = new int[slots];
    long random = seed;
    double loss = 0.0;
    for (int p = 0; p < m; p++) {
      float alpha = (float) (alphaFrom + (alphaTo - alphaFrom) * p / m);
      int l1 = pairs[p] * dim;
      int positive = pairs[m + p];
      // The pair's draws first, then all its rows copied at once (their cache misses
      // overlap), then the updates in draw order; a row drawn twice is one copy.
      int count = 0;
      int distinct = 0;
      for (int d = 0; d <= negative; d++) {
        int target = positive;
        if (d > 0) {
          random = nextRandom(random);
          target = table[(int) Long.remainderUnsigned(random >>> 16, table.length)];
          if (target == positive) {
            continue;
          }
        }
        int s = -1;
        for (int e = 0; e < distinct; e++) {
          if (rowOfSlot[e] == target) {
            s = e;
            break;
          }
        }
        if (s < 0) {
          s = distinct++;
          rowOfSlot[s] = target;
          System.arraycopy(c, target * dim, rows[s], 0, dim);
        }
        labels[count] = d == 0 ? 1 : 0;
        slotOf[count++] = s;
      }
      // Rows are worked on in local arrays: C2 (JDK 17) vectorises a loop over two arrays
      // only when they are indexed alike, as it cannot rule out that they overlap.
      System.arraycopy(w, l1, l1v, 0, dim);
      Arrays.fill(neu1e, 0f);
      for (int i = 0; i < count; i++) {
        int label = labels[i];
        float[] ct = rows[slotOf[i]];
        double f = dot(l1v, ct, dim, lanes);
        double e = Math.exp(-f);
        double sigmoid = 1.0 / (1.0 + e);
        if (p % LOSS_EVERY == 0) {
          // -log sigmoid(f) = log(1 + e^-f); -log sigmoid(-f) = f + log(1 + e^-f)
          loss += (label == 1 ? 0.0 : f) + Math.log1p(e);
        }
        float g = (float) ((label - sigmoid) * alpha);
        axpy(g, ct, neu1e, dim);
        axpy(g, l1v, ct, dim);
      }
      for (int s = 0; s < distinct; s++) {
        System.arraycopy(rows[s], 0, c, rowOfSlot[s] * dim, dim);
      }
      axpy(1f, neu1e, l1v, dim);
      System.arraycopy(l1v, 0, w, l1, dim);
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
