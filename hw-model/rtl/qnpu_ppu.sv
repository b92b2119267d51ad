// Post-processing unit: takes a copy of the accumulators when the compute
// engine finishes a DRAIN command and writes two OBUF words (Cols int8
// outputs each, two array rows) per cycle, while the array already works on the
// next tile. Per column: CONV/DWCONV/ADD: clamp(MBQM(acc + bias, mult, shift)
// + zp); AVGPOOL: clamp(round(acc / count)); MAXPOOL: clamp(acc).
// With PPU_FP (ONNX models), CONV/DWCONV instead compute ONNX Runtime's
// requantization: clamp(round_half_even(float32(acc + bias) * mult) + zp),
// mult holding float32 bits; fpq() reproduces both float32 roundings.
// With RES (fused residual ADD) the int8 result q of CONV/DWCONV is then
// added to the residual byte b with TFLite's int8 ADD arithmetic:
// clamp(MBQM(MBQM((q - zp) << lshift, mult_a, shift_a) +
// MBQM((b + off_b) << lshift, mult_b, shift_b), out_mult, out_shift) +
// res_zp), mult_a, mult_b and out_mult from the residual parameter set.
// With DRAIN_ABUF the rows go to ABUF instead (on-chip handoff to the next
// layer), unused columns as zero so the word is what a LOAD would leave.

module qnpu_ppu
  import qnpu_pkg::*;
  import qnpu_math_pkg::*;
#(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               start_i,
  input  logic [7:0]         op_i,
  input  logic signed [31:0] acc_i [Rows][Cols],
  input  logic [15:0]        cnt_i [Rows],
  input  logic [Cols*8-1:0]  pset_i [ParamSetWords],
  input  logic [7:0]         npix_i,
  input  logic [19:0]        o_addr_i,
  input  logic [15:0]        o_stride_i,
  input  logic signed [7:0]  zp_i,
  input  logic signed [7:0]  act_min_i,
  input  logic signed [7:0]  act_max_i,
  input  logic               push_next_i,
  input  logic               fp_i,
  input  logic               res_i,
  input  logic [Cols*8-1:0]  rword_i [Rows],
  input  logic [Cols*8-1:0]  rset_i [ParamSetWords],
  input  logic signed [7:0]  res_zp_i,
  input  logic signed [7:0]  res_oshift_i,
  input  logic signed [7:0]  res_min_i,
  input  logic signed [7:0]  res_max_i,
  input  logic signed [7:0]  res_shift_a_i,
  input  logic signed [7:0]  res_shift_b_i,
  input  logic signed [15:0] res_off_b_i,
  input  logic [4:0]         res_lshift_i,
  input  logic               abuf_i,
  input  logic [Cols-1:0]    colmask_i,
  output logic               busy_o,
  output logic               push_next_o,
  output logic               abuf_o,
  output logic               we_o [2],
  output logic [19:0]        waddr_o [2],
  output logic [Cols*8-1:0]  wdata_o [2]
);
  logic               busy_q;
  logic [7:0]         op_q;
  logic signed [31:0] acc_q [Rows][Cols];
  logic [15:0]        cnt_q [Rows];
  logic signed [31:0] bias_q [Cols];
  logic signed [31:0] mult_q [Cols];
  logic signed [31:0] shift_q [Cols];
  logic [7:0]         row_q, npix_q;
  logic [19:0]        waddr_q;
  logic [15:0]        stride_q;
  logic signed [7:0]  zp_q, min_q, max_q;
  logic               push_q, fp_q, res_q;
  logic [Cols*8-1:0]  rword_q [Rows];
  logic signed [31:0] rmult_a_q [Cols];
  logic signed [31:0] rmult_b_q [Cols];
  logic signed [31:0] rmult_o_q [Cols];
  logic signed [7:0]  rzp_q, roshift_q, rmin_q, rmax_q, rshift_a_q, rshift_b_q;
  logic signed [15:0] roff_b_q;
  logic [4:0]         rlshift_q;
  logic               abuf_q;
  logic [Cols-1:0]    colmask_q;

  // round_half_even(float32(x) * m) as an int32 saturated to +-2^30 (the
  // caller adds the zero point and clamps to 8 bits). Exact: x is rounded
  // to 24 bits as an int-to-float conversion does, the 48-bit product is
  // rounded to 24 bits as a float32 multiply does, then to an integer.
  // Results below 2^-126 (float32 subnormals) round to 0 either way, and
  // an infinite or NaN multiplier saturates.
  function automatic logic signed [31:0] fpq(input logic signed [31:0] x,
                                             input logic [31:0] m);
    logic        neg;
    logic [47:0] ax;
    logic [24:0] mx;
    logic [23:0] mm;
    logic [47:0] p;
    logic [24:0] mf;
    logic [47:0] rem, half, q;
    int          ex, em, ef, lead, sh;
    neg = x[31] ^ m[31];
    ax = x[31] ? 48'(-64'(x)) : 48'(x);
    em = int'(m[30:23]);
    if (ax == 0 || m[30:0] == 0) return 32'sd0;
    if (em == 255) return neg ? -32'sd1073741824 : 32'sd1073741824;
    // float32(x) = mx * 2^ex, mx < 2^25 (2^24 after a carry)
    lead = 0;
    for (int i = 0; i < 33; i++) if (ax[i]) lead = i;
    if (lead <= 23) begin
      mx = 25'(ax);
      ex = 0;
    end else begin
      sh = lead - 23;
      mx = 25'(ax >> sh);
      rem = ax & ((48'd1 << sh) - 48'd1);
      half = 48'd1 << (sh - 1);
      if (rem > half || (rem == half && mx[0])) mx = mx + 25'd1;
      ex = sh;
    end
    // multiplier = mm * 2^(em - 150), subnormals with exponent -149
    mm = (em == 0) ? {1'b0, m[22:0]} : {1'b1, m[22:0]};
    if (em == 0) em = 1;
    p = 48'(mx) * 48'(mm);
    ef = ex + em - 150;
    // the float32 product: p rounded to 24 significant bits
    lead = 0;
    for (int i = 0; i < 48; i++) if (p[i]) lead = i;
    if (lead > 23) begin
      sh = lead - 23;
      q = p >> sh;
      rem = p & ((48'd1 << sh) - 48'd1);
      half = 48'd1 << (sh - 1);
      if (rem > half || (rem == half && q[0])) q = q + 48'd1;
      mf = q[24:0];
      ef = ef + sh;
    end else begin
      mf = 25'(p);
    end
    // to an integer, rounding half to even
    if (ef >= 0) begin
      q = (ef > 6) ? 48'd1 << 30 : 48'(mf) << ef;
      if (q >= 48'd1 << 30) return neg ? -32'sd1073741824 : 32'sd1073741824;
    end else if (ef < -26) begin
      q = '0;
    end else begin
      sh = -ef;
      q = 48'(mf) >> sh;
      rem = 48'(mf) & ((48'd1 << sh) - 48'd1);
      half = 48'd1 << (sh - 1);
      if (rem > half || (rem == half && q[0])) q = q + 48'd1;
    end
    return neg ? -32'(q) : 32'(q);
  endfunction

  // the parameter sets as flat little-endian byte arrays
  logic [ParamSetWords*Cols*8-1:0] pflat, rflat;
  always_comb begin
    for (int unsigned w = 0; w < ParamSetWords; w++) begin
      pflat[w*Cols*8 +: Cols*8] = pset_i[w];
      rflat[w*Cols*8 +: Cols*8] = rset_i[w];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q      <= 1'b0;
      op_q        <= '0;
      row_q       <= '0;
      npix_q      <= '0;
      waddr_q     <= '0;
      stride_q    <= '0;
      zp_q        <= '0;
      min_q       <= '0;
      max_q       <= '0;
      push_q      <= 1'b0;
      fp_q        <= 1'b0;
      res_q       <= 1'b0;
      rzp_q       <= '0;
      roshift_q   <= '0;
      rmin_q      <= '0;
      rmax_q      <= '0;
      rshift_a_q  <= '0;
      rshift_b_q  <= '0;
      roff_b_q    <= '0;
      rlshift_q   <= '0;
      abuf_q      <= 1'b0;
      colmask_q   <= '0;
      push_next_o <= 1'b0;
    end else begin
      push_next_o <= 1'b0;
      if (start_i) begin
        busy_q   <= 1'b1;
        op_q     <= op_i;
        row_q    <= '0;
        npix_q   <= npix_i;
        waddr_q  <= o_addr_i;
        stride_q <= o_stride_i;
        zp_q     <= zp_i;
        min_q    <= act_min_i;
        max_q    <= act_max_i;
        push_q   <= push_next_i;
        fp_q     <= fp_i;
        res_q    <= res_i;
        rzp_q      <= res_zp_i;
        roshift_q  <= res_oshift_i;
        rmin_q     <= res_min_i;
        rmax_q     <= res_max_i;
        rshift_a_q <= res_shift_a_i;
        rshift_b_q <= res_shift_b_i;
        roff_b_q   <= res_off_b_i;
        rlshift_q  <= res_lshift_i;
        abuf_q     <= abuf_i;
        colmask_q  <= colmask_i;
      end else if (busy_q) begin
        row_q   <= row_q + 8'd2;
        waddr_q <= waddr_q + 20'(stride_q) + 20'(stride_q);
        if (row_q + 8'd2 >= npix_q) begin
          busy_q      <= 1'b0;
          push_next_o <= push_q;
        end
      end
    end
  end

  // a handoff never lands on results still being written: it would replace
  // the accumulators of the rows not yet drained
  StartIdle_A: assert property (@(posedge clk_i) disable iff (!rst_ni) start_i |-> !busy_q);

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      logic signed [31:0] bias_t [Cols];
      logic signed [31:0] mult_t [Cols];
      logic signed [31:0] shift_t [Cols];
      logic signed [31:0] ra_t [Cols];
      logic signed [31:0] rb_t [Cols];
      logic signed [31:0] ro_t [Cols];
      acc_q <= acc_i;
      rword_q <= rword_i;
      cnt_q <= cnt_i;
      for (int unsigned c = 0; c < Cols; c++) begin
        bias_t[c]  = pflat[(0 * Cols + c) * 32 +: 32];
        mult_t[c]  = pflat[(1 * Cols + c) * 32 +: 32];
        shift_t[c] = pflat[(2 * Cols + c) * 32 +: 32];
        ra_t[c]    = rflat[(0 * Cols + c) * 32 +: 32];
        rb_t[c]    = rflat[(1 * Cols + c) * 32 +: 32];
        ro_t[c]    = rflat[(2 * Cols + c) * 32 +: 32];
      end
      rmult_a_q <= ra_t;
      rmult_b_q <= rb_t;
      rmult_o_q <= ro_t;
      bias_q  <= bias_t;
      mult_q  <= mult_t;
      shift_q <= shift_t;
    end
  end

  // lane l writes array row row_q + l
  logic signed [31:0] v, cnt, half;
  logic [$clog2(Rows)-1:0] row;
  always_comb begin
    for (int unsigned l = 0; l < 2; l++) begin
      wdata_o[l] = '0;
      row = row_q[$clog2(Rows)-1:0] + $clog2(Rows)'(l);
      cnt = 32'(cnt_q[row]);
      half = cnt >>> 1;
      if (busy_q) begin
        for (int unsigned c = 0; c < Cols; c++) begin
          v = acc_q[row][c];
          unique case (op_q)
            OpAvgpool: v = (v > 0) ? (v + half) / cnt : (v - half) / cnt;
            OpMaxpool: v = v;
            default:   v = (fp_q ? fpq(v + bias_q[c], mult_q[c]) :
                            mbqm(v + bias_q[c], mult_q[c], shift_q[c])) + 32'(zp_q);
          endcase
          v = clamp8(v, min_q, max_q);
          if (res_q) begin
            logic signed [31:0] sa, sb;
            sa = mbqm((v - 32'(zp_q)) <<< rlshift_q, rmult_a_q[c], 32'(rshift_a_q));
            sb = mbqm((32'(signed'(rword_q[row][c*8 +: 8])) + 32'(roff_b_q)) <<< rlshift_q,
                      rmult_b_q[c], 32'(rshift_b_q));
            v = clamp8(mbqm(sa + sb, rmult_o_q[c], 32'(roshift_q)) + 32'(rzp_q), rmin_q, rmax_q);
          end
          wdata_o[l][c*8 +: 8] = (abuf_q && !colmask_q[c]) ? 8'd0 : v[7:0];
        end
      end
    end
  end

  assign busy_o          = busy_q | push_next_o;
  assign abuf_o     = abuf_q;
  assign we_o[0]    = busy_q;
  assign we_o[1]    = busy_q && (row_q + 8'd1 < npix_q);
  assign waddr_o[0] = waddr_q;
  assign waddr_o[1] = waddr_q + 20'(stride_q);
endmodule
