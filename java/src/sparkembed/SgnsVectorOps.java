package sparkembed;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The row arithmetic of {@link SgnsBlock} on the JVM's vector instructions (the incubating
 * Vector API, which Spark's JVMs load: its launcher adds {@code
 * --add-modules=jdk.incubator.vector}). The species is fixed at 8 floats whatever the
 * hardware, so the sums are added in the same order on every machine and equal {@link
 * SgnsBlock}'s scalar loops bit for bit.
 */
final class SgnsVectorOps {
  private SgnsVectorOps() {}

  static final VectorSpecies<Float> LANES = FloatVector.SPECIES_256;

  /** {@link SgnsBlock#dot}; lanes: 8 floats of scratch. */
  static float dot(float[] a, int ao, float[] b, int bo, int dim, float[] lanes) {
    FloatVector sum = FloatVector.zero(LANES);
    int bound = dim - dim % SgnsBlock.LANES;
    for (int k = 0; k < bound; k += SgnsBlock.LANES) {
      FloatVector x = FloatVector.fromArray(LANES, a, ao + k);
      sum = x.mul(FloatVector.fromArray(LANES, b, bo + k)).add(sum);
    }
    sum.intoArray(lanes, 0);
    return SgnsBlock.finishDot(a, ao, b, bo, dim, bound, lanes);
  }

  /** y[yo + k] += g * x[xo + k], k < n. */
  static void axpy(float g, float[] x, int xo, float[] y, int yo, int n) {
    int bound = n - n % SgnsBlock.LANES;
    for (int k = 0; k < bound; k += SgnsBlock.LANES) {
      FloatVector.fromArray(LANES, x, xo + k)
          .mul(g)
          .add(FloatVector.fromArray(LANES, y, yo + k))
          .intoArray(y, yo + k);
    }
    for (int k = bound; k < n; k++) {
      y[yo + k] += g * x[xo + k];
    }
  }
}
