/**
 * The standard normal distribution function and its inverse, in double precision and
 * without dependencies: PSR, DSR, MinTRL and forecast intervals all rest on these two.
 */

// W. J. Cody, "Rational Chebyshev approximations for the error function" (Math. Comp. 1969),
// in the form of ANORM from ACM TOMS Algorithm 715 (the one R's pnorm runs): three ranges of
// |x|, each a rational function, with relative error near 1e-16 in the lower tail. The
// coefficients are the published ones written as the doubles they round to.
const A = [2.2352520354606837, 161.02823106855587, 1067.6894854603709, 18154.98125334356, 0.06568233791820745];
const B = [47.202581904688245, 976.0985517377767, 10260.932208618979, 45507.78933502673];
const C = [
  0.39894151208813466, 8.883149794388377, 93.50665613217785, 597.2702763948002, 2494.5375852903726, 6848.190450536283,
  11602.65143764735, 9842.714838383978, 1.0765576773720192e-8,
];
const D = [
  22.266688044328117, 235.387901782625, 1519.3775994075547, 6485.558298266761, 18615.571640885097, 34900.95272114598,
  38912.00328609327, 19685.429676859992,
];
const P = [
  0.215898534057957, 0.12740116116024736, 0.022235277870649807, 0.0014216191932278934, 0.000029112874951168793,
  0.023073441764940174,
];
const Q = [1.284260096144911, 0.4682382124808651, 0.06598813786892856, 0.0037823963320275824, 0.00007297515550839662];

const ONE_OVER_SQRT_2PI = 0.3989422804014327;
const SQRT_2PI = 2.5066282746310007;
const SQRT_32 = 5.656854249492381;
// Below this Φ(x) underflows to 0; above the mirror of its tail, 1 − Φ(x) rounds to 0.
const LOWER_UNDERFLOW = -37.5193;
const UPPER_SATURATION = 8.2924;
// Φ(±CENTRAL) = 1/2 ± 1/4: inside, Φ is computed as 1/2 plus a small rational term.
const CENTRAL = 0.67448975;

const c = (coefficients: readonly number[], i: number): number => coefficients[i] as number;

/**
 * exp(−y²/2) with y² split so that the large part is exact: y = a + b with a a multiple of
 * 1/16, so a² is exact and the rounding of y² does not cost relative accuracy in the tail.
 */
function gaussianFactor(y: number): number {
  const head = Math.trunc(y * 16) / 16;
  const rest = (y - head) * (y + head);
  return Math.exp(-head * head * 0.5) * Math.exp(-rest * 0.5);
}

/** Φ(−y) for y ≥ 0.67448975 (the lower tail). */
function lowerTail(y: number): number {
  if (y <= SQRT_32) {
    let num = c(C, 8) * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + c(C, i)) * y;
      den = (den + c(D, i)) * y;
    }
    return gaussianFactor(y) * ((num + c(C, 7)) / (den + c(D, 7)));
  }
  const inv = 1 / (y * y);
  let num = c(P, 5) * inv;
  let den = inv;
  for (let i = 0; i < 4; i++) {
    num = (num + c(P, i)) * inv;
    den = (den + c(Q, i)) * inv;
  }
  const ratio = (ONE_OVER_SQRT_2PI - (inv * (num + c(P, 4))) / (den + c(Q, 4))) / y;
  return gaussianFactor(y) * ratio;
}

/**
 * Φ(x), the standard normal distribution function, to about 1e-15 relative wherever the
 * result is a normal double (in the lower tail too: Φ(−37) ≈ 5.7e-300 keeps full precision).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const y = Math.abs(x);
  if (y <= CENTRAL) return 0.5 + centralExcess(x);
  if (x < LOWER_UNDERFLOW) return 0;
  if (x > UPPER_SATURATION) return 1;
  const tail = lowerTail(y);
  return x < 0 ? tail : 1 - tail;
}

/** Φ(x) − 1/2 for |x| ≤ {@link CENTRAL}, without the cancellation of subtracting 1/2. */
function centralExcess(x: number): number {
  let num = 0;
  let den = 0;
  if (Math.abs(x) > 1.1e-16) {
    const sq = x * x;
    num = c(A, 4) * sq;
    den = sq;
    for (let i = 0; i < 3; i++) {
      num = (num + c(A, i)) * sq;
      den = (den + c(B, i)) * sq;
    }
  }
  return (x * (num + c(A, 3))) / (den + c(B, 3));
}

// P. J. Acklam's rational approximation of Φ⁻¹ (relative error below 1.15e-9), then one step
// of Halley's method on Φ(x) − p, which triples the number of correct digits.
const AA = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
];
const AB = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const AC = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const AD = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

function acklam(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c(AC, 0) * q + c(AC, 1)) * q + c(AC, 2)) * q + c(AC, 3)) * q + c(AC, 4)) * q + c(AC, 5)) /
      ((((c(AD, 0) * q + c(AD, 1)) * q + c(AD, 2)) * q + c(AD, 3)) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((c(AA, 0) * r + c(AA, 1)) * r + c(AA, 2)) * r + c(AA, 3)) * r + c(AA, 4)) * r + c(AA, 5)) * q) /
    (((((c(AB, 0) * r + c(AB, 1)) * r + c(AB, 2)) * r + c(AB, 3)) * r + c(AB, 4)) * r + 1)
  );
}

/**
 * Φ⁻¹(p), the standard normal quantile, to about 1e-15 relative. p = 0 gives −∞, p = 1 gives
 * +∞, p outside [0, 1] or NaN gives NaN.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  // Work in the lower half, where Φ is accurate relative to p; 1 − p is exact for p ≥ 0.5.
  if (p > 0.5) return -normalQuantile(1 - p);
  const x = acklam(p);
  // For p ≥ 1/4, p − 1/2 is exact and Φ(x) − 1/2 is computed directly, so the residual keeps
  // its relative precision near the median instead of losing it to cancellation.
  const e = p >= 0.25 && Math.abs(x) <= CENTRAL ? centralExcess(x) - (p - 0.5) : normalCdf(x) - p;
  const u = e * SQRT_2PI * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
