// Post-processing unit: takes a copy of the accumulators when the compute
// engine finishes a DRAIN command and writes two OBUF words (Cols int8
// outputs each, two array rows) per cycle, while the array already works on the
// next tile. Per column: CONV/DWCONV/ADD: clamp(MBQM(acc + bias, mult, shift)
// + zp); AVGPOOL: clamp(round(acc / count)); MAXPOOL: clamp(acc).

module qnpu_ppu
  import qnpu_pkg::*;
  import qnpu_math_pkg::*;
#(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16,
  parameter int unsigned ObufWords = 2048,
  localparam int unsigned ObufAw = $clog2(ObufWords)
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
  output logic               busy_o,
  output logic               push_next_o,
  output logic               obuf_we_o [2],
  output logic [ObufAw-1:0]  obuf_waddr_o [2],
  output logic [Cols*8-1:0]  obuf_wdata_o [2]
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
  logic               push_q;

  // the parameter set as a flat little-endian byte array
  logic [ParamSetWords*Cols*8-1:0] pflat;
  always_comb begin
    for (int unsigned w = 0; w < ParamSetWords; w++) begin
      pflat[w*Cols*8 +: Cols*8] = pset_i[w];
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
      acc_q <= acc_i;
      cnt_q <= cnt_i;
      for (int unsigned c = 0; c < Cols; c++) begin
        bias_t[c]  = pflat[(0 * Cols + c) * 32 +: 32];
        mult_t[c]  = pflat[(1 * Cols + c) * 32 +: 32];
        shift_t[c] = pflat[(2 * Cols + c) * 32 +: 32];
      end
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
      obuf_wdata_o[l] = '0;
      row = row_q[$clog2(Rows)-1:0] + $clog2(Rows)'(l);
      cnt = 32'(cnt_q[row]);
      half = cnt >>> 1;
      if (busy_q) begin
        for (int unsigned c = 0; c < Cols; c++) begin
          v = acc_q[row][c];
          unique case (op_q)
            OpAvgpool: v = (v > 0) ? (v + half) / cnt : (v - half) / cnt;
            OpMaxpool: v = v;
            default:   v = mbqm(v + bias_q[c], mult_q[c], shift_q[c]) + 32'(zp_q);
          endcase
          v = clamp8(v, min_q, max_q);
          obuf_wdata_o[l][c*8 +: 8] = v[7:0];
        end
      end
    end
  end

  assign busy_o          = busy_q | push_next_o;
  assign obuf_we_o[0]    = busy_q;
  assign obuf_we_o[1]    = busy_q && (row_q + 8'd1 < npix_q);
  assign obuf_waddr_o[0] = waddr_q[ObufAw-1:0];
  assign obuf_waddr_o[1] = ObufAw'(waddr_q + 20'(stride_q));
endmodule
