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
 * reference easy to write: the dot products are summed in double (each float product is
 * exact in a double), and sigmoid is computed, not read from a table.
 */
public final class SgnsBlock {
  private SgnsBlock() {}

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
   * {@code w}: the word vectors of the inputs' bucket, {@code c}: the context vectors of the outputs' bucket, rows of {@code dim}
   * floats, updated in place. The learning rate goes linearly from alphaFrom (first pair)
   * towards alphaTo (after the last). Returns the summed loss: -log sigmoid(f) of the
   * positive pairs plus -log sigmoid(-f) of the negatives.
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
    float[] neu1e = new float[dim];
    long random = seed;
    double loss = 0.0;
    for (int p = 0; p < m; p++) {
      float alpha = (float) (alphaFrom + (alphaTo - alphaFrom) * p / m);
      int l1 = pairs[p] * dim;
      int positive = pairs[m + p];
      Arrays.fill(neu1e, 0f);
      for (int d = 0; d <= negative; d++) {
        int target;
        int label;
        if (d == 0) {
          target = positive;
          label = 1;
        } else {
          random = nextRandom(random);
          target = table[(int) Long.remainderUnsigned(random >>> 16, table.length)];
          if (target == positive) {
            continue;
          }
          label = 0;
        }
        int l2 = target * dim;
        double f = 0.0;
        for (int k = 0; k < dim; k++) {
          f += (double) w[l1 + k] * (double) c[l2 + k];
        }
        double e = Math.exp(-f);
        double sigmoid = 1.0 / (1.0 + e);
        // -log sigmoid(f) = log(1 + e^-f); -log sigmoid(-f) = f + log(1 + e^-f)
        loss += (label == 1 ? 0.0 : f) + Math.log1p(e);
        float g = (float) ((label - sigmoid) * alpha);
        for (int k = 0; k < dim; k++) {
          neu1e[k] += g * c[l2 + k];
        }
        for (int k = 0; k < dim; k++) {
          c[l2 + k] += g * w[l1 + k];
        }
      }
      for (int k = 0; k < dim; k++) {
        w[l1 + k] += neu1e[k];
      }
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
