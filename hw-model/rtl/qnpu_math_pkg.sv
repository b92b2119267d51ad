// Fixed-point helpers, bit-exact with TFLite's reference integer arithmetic
// (tensorflow/lite/kernels/internal/common.h, gemmlowp fixedpoint).

package qnpu_math_pkg;

  // gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2 + 2^31) >> 32 with
  // rounding away from zero and the one overflow case saturated.
  function automatic logic signed [31:0] srdhm(input logic signed [31:0] a,
                                               input logic signed [31:0] b);
    logic signed [63:0] ab;
    logic signed [63:0] nudged;
    logic signed [63:0] q;
    if (a == 32'sh8000_0000 && b == 32'sh8000_0000) begin
      return 32'sh7fff_ffff;
    end
    ab = 64'(a) * 64'(b);
    nudged = ab + ((ab >= 0) ? 64'sd1073741824 : -64'sd1073741823);
    // C's int64 division by 2^31 truncates toward zero.
    q = nudged >>> 31;
    if (nudged < 0 && nudged[30:0] != '0) begin
      q = q + 64'sd1;
    end
    return q[31:0];
  endfunction

  // gemmlowp RoundingDivideByPOT: round half away from zero.
  function automatic logic signed [31:0] rdbpot(input logic signed [31:0] x,
                                                input logic [4:0] exponent);
    logic [31:0] mask;
    logic [31:0] rem;
    logic [31:0] thr;
    logic signed [31:0] res;
    mask = (32'd1 << exponent) - 32'd1;
    rem = x & mask;
    thr = (mask >> 1) + {31'd0, x[31]};
    res = x >>> exponent;
    if (rem > thr) begin
      res = res + 32'sd1;
    end
    return res;
  endfunction

  // TFLite MultiplyByQuantizedMultiplier (double rounding). shift > 0 is a
  // left shift applied (with int32 wrap-around) before the multiply.
  function automatic logic signed [31:0] mbqm(input logic signed [31:0] x,
                                              input logic signed [31:0] mult,
                                              input logic signed [31:0] shift);
    logic [4:0] lsh;
    logic [4:0] rsh;
    lsh = 5'd0;
    rsh = 5'd0;
    if (shift > 0) begin
      lsh = (shift > 31) ? 5'd31 : shift[4:0];
    end else begin
      rsh = (shift < -31) ? 5'd31 : 5'(-shift);
    end
    return rdbpot(srdhm(x <<< lsh, mult), rsh);
  endfunction

  function automatic logic signed [31:0] clamp8(input logic signed [31:0] x,
                                                input logic signed [7:0] lo,
                                                input logic signed [7:0] hi);
    logic signed [31:0] y;
    y = x;
    if (y < 32'(lo)) y = 32'(lo);
    if (y > 32'(hi)) y = 32'(hi);
    return y;
  endfunction

endpackage
