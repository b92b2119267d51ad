// Compute engine: an output-stationary Rows x Cols INT8 MAC array with its
// address generator. Array row r holds output pixel PIX0 + r of the tile,
// column c output channel c. Each cycle is one reduction step:
//   CONV    (scalar mode): step = (ky, kx, i), i innermost; row r reads one
//           input byte, column c one weight from WBUF word W_ADDR + step;
//           acc[r][c] += (in + IN_OFF) * w[c].
//   DWCONV  (vector mode): step = (ky, kx); row r reads one ABUF word (Cols
//           channels of its input pixel); column c uses channel
//           (DM_PHASE + c) / IC of that word; acc[r][c] += (in + IN_OFF) * w[c].
//   MAXPOOL / AVGPOOL: as DWCONV with depth multiplier 1, max or sum (+count).
//   ADD     two steps (operand A then B): acc[r][c] += MBQM((x + off) << LSHIFT).
//   PACKED  (DWCONV/POOL) a tap may address any byte: the row reads the word
//           holding it and column c uses byte (addr mod Cols) + channel of
//           c, which must stay in the word; with COL_GROUPS S > 1 the columns
//           form S groups of Cols / S, group s of row r computing pixel
//           PIX0 + r * S + s from a read port of its own ("virtual row"
//           v = s * Rows + r), so channels fewer than Cols keep every column
//           busy and pixels sit densely in ABUF.
//   RES     (CONV/DWCONV with DRAIN) one step more: row r reads its residual
//           word at B_ADDR + r * RES_STRIDE, column c its byte c, and PBUF
//           the residual parameter set at P_ADDR + 12; the PPU adds them
//           (fused residual ADD). The accumulators are left as they are.
// Padding taps (outside IN_H x IN_W) contribute nothing. The PPU drains the
// accumulators into OBUF in the background, or with DRAIN_ABUF into ABUF
// (on-chip handoff); PPU_WAIT holds a command in setup until the PPU is idle,
// so it reads what earlier DRAIN_ABUF tiles wrote.

module qnpu_compute
  import qnpu_pkg::*;
  import qnpu_math_pkg::*;
#(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16,
  parameter int unsigned AbufBytes = 65536,
  parameter int unsigned WbufWords = 2048,
  parameter int unsigned PbufWords = 256,
  parameter int unsigned ObufWords = 2048,
  localparam int unsigned AbufAw = $clog2(AbufBytes / Cols),
  localparam int unsigned WbufAw = $clog2(WbufWords),
  localparam int unsigned PbufAw = $clog2(PbufWords),
  localparam int unsigned ObufAw = $clog2(ObufWords),
  // column groups of the packed vector mode (COL_GROUPS 2)
  localparam int unsigned MaxGroups = 2,
  localparam int unsigned VRows = Rows * MaxGroups
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              cmd_valid_i,
  input  logic [511:0]      cmd_i,
  output logic              cmd_ready_o,
  output logic              busy_o,
  output logic              active_o,
  output logic              stall_ppu_o,
  output logic              push_prev_o,
  output logic              push_next_o,
  output logic              err_o,
  output logic [7:0]        err_code_o,
  output logic [15:0]       macs_o,
  // SRAM read ports
  output logic              abuf_groups_o,  // ports Rows.. in use (COL_GROUPS)
  output logic [AbufAw-1:0] abuf_raddr_o [VRows],
  input  logic [Cols*8-1:0] abuf_rdata_i [VRows],
  output logic [WbufAw-1:0] wbuf_raddr_o [1],
  input  logic [Cols*8-1:0] wbuf_rdata_i [1],
  output logic [PbufAw-1:0] pbuf_raddr_o [ParamSetWords],
  input  logic [Cols*8-1:0] pbuf_rdata_i [ParamSetWords],
  // OBUF write ports (from the PPU, two rows per cycle)
  output logic              obuf_we_o [2],
  output logic [ObufAw-1:0] obuf_waddr_o [2],
  output logic [Cols*8-1:0] obuf_wdata_o [2],
  // ABUF write ports (from the PPU with DRAIN_ABUF)
  output logic              abuf_we_o [2],
  output logic [AbufAw-1:0] abuf_waddr_o [2],
  output logic [Cols*8-1:0] abuf_wdata_o [2]
);
  localparam int unsigned AbufWords = AbufBytes / Cols;
  localparam int unsigned ColsLog = $clog2(Cols);

  typedef enum logic [2:0] {
    StIdle,
    StSetup,
    StRun,
    StHandoff,
    StErr
  } state_e;

  state_e state_q;

  // ---- command fields ----
  logic [7:0]         op_q;
  logic               clear_q, drain_q, push_prev_q, push_next_q;
  logic [19:0]        a_addr_q, b_addr_q, w_addr_q, o_addr_q;
  logic [15:0]        pix_stride_q, row_stride_q, in_h_q, in_w_q, out_w_q, pix0_q;
  logic [15:0]        ic_q, p_addr_q, o_stride_q;
  logic [7:0]         npix_q, ncols_q, kh_q, kw_q, sh_q, sw_q, dh_q, dw_q, dm_phase_q;
  logic signed [7:0]  pad_t_q, pad_l_q, zp_q, act_min_q, act_max_q, shift_a_q, shift_b_q;
  logic signed [15:0] in_off_q, in_off_b_q;
  logic [4:0]         lshift_q;
  logic [31:0]        mult_a_q, mult_b_q;
  logic               res_q;
  logic               dabuf_q, ppu_wait_q;
  logic               packed_q;
  logic [2:0]         groups_q;            // COL_GROUPS as given
  logic [1:0]         gsh_q;               // log2 of the groups in use
  logic [ColsLog-1:0] maxsel_q;            // highest byte a column uses
  logic [15:0]        res_stride_q;
  logic signed [7:0]  res_zp_q, res_oshift_q, res_min_q, res_max_q;

  // the residual step (RES) and what it captured for the PPU
  logic               res_step;
  logic [Cols*8-1:0]  rword_q [Rows];
  logic [Cols*8-1:0]  rset_q [ParamSetWords];

  logic vector_mode, is_add;
  assign vector_mode = (op_q != OpConv);
  assign is_add = (op_q == OpAdd);

  // ---- address generator state ----
  // per array row (its first pixel); the other column groups' pixels
  // follow from ox0_q while COL_GROUPS is in use
  logic signed [47:0] base_q [Rows];
  logic signed [31:0] iy0_q [Rows];
  logic signed [31:0] ix0_q [Rows];
  logic [15:0]        ox0_q [Rows];
  logic [ColsLog-1:0] dmsel_q [Cols];
  logic [31:0]        nsteps_q, step_q;
  logic [15:0]        i_q;
  logic [7:0]         kx_q, ky_q;
  logic signed [31:0] offy_q, offx_q;      // ky * DIL_H, kx * DIL_W
  logic signed [47:0] offya_q, offxa_q;    // the same in ABUF bytes
  logic               first_q;
  logic [7:0]         err_code_q;

  // ---- array state ----
  logic signed [31:0] acc_q [Rows][Cols];
  logic [15:0]        cnt_q [Rows];

  // ---- per-step combinational address generation ----
  logic signed [47:0] off;
  logic signed [47:0] addr [VRows];
  logic               pad [VRows];
  logic               step_err;
  logic [7:0]         step_err_code;
  logic [ColsLog-1:0] sel [VRows];
  // the virtual row of each column's group, per array row (packed mode)
  function automatic int unsigned vrow_of(int unsigned r, int unsigned c, logic [1:0] gsh);
    return (c >> (ColsLog - 32'(gsh))) * Rows + r;
  endfunction

  always_comb begin
    if (res_step) begin
      off = 48'(signed'({1'b0, b_addr_q}));
    end else if (is_add) begin
      off = (step_q == 32'd0) ? 48'sd0 : 48'(signed'({1'b0, b_addr_q})) -
                                         48'(signed'({1'b0, a_addr_q}));
    end else begin
      off = offya_q + offxa_q + 48'(i_q);
    end
    step_err = 1'b0;
    step_err_code = StatusOk;
    // the rows of group 0 always, the other groups' only when in use (their
    // values are not looked at otherwise, and the simulation skips them)
    for (int unsigned v = 0; v < (gsh_q != 2'd0 ? VRows : Rows); v++) begin
      logic signed [31:0] yy, xx, iy, ix;
      logic signed [47:0] bs;
      logic [31:0]        ox, k;
      int unsigned r, s;
      r = v % Rows;
      s = v / Rows;
      ox = '0;
      k = '0;
      if (s == 0) begin
        iy = iy0_q[r];
        ix = ix0_q[r];
        bs = base_q[r];
      end else begin
        // pixel r * S + s: s pixels on, wrapping into the next output rows
        ox = 32'(ox0_q[r]) + s;
        k = 0;
        for (int unsigned t = 0; t < MaxGroups; t++) begin
          if (ox >= 32'(out_w_q)) begin
            ox = ox - 32'(out_w_q);
            k = k + 1;
          end
        end
        iy = iy0_q[r] + signed'(k * 32'(sh_q));
        ix = ix0_q[r] + (signed'(ox) - signed'(32'(ox0_q[r]))) * signed'(32'(sw_q));
        bs = base_q[r] + 48'(signed'(iy - iy0_q[r])) * 48'(row_stride_q) +
             48'(signed'(ix - ix0_q[r])) * 48'(pix_stride_q);
      end
      yy = iy + offy_q;
      xx = ix + offx_q;
      addr[v] = res_step ? off + 48'(r) * 48'(res_stride_q) : bs + off;
      // group s of row r is pixel r * S + s; groups beyond S do not exist
      pad[v] = (s >= (32'd1 << gsh_q)) || (((r << gsh_q) + s) >= 32'(npix_q)) ||
               (!is_add && !res_step && (yy < 0 || yy >= 32'(in_h_q) || xx < 0 || xx >= 32'(in_w_q)));
      sel[v] = addr[v][ColsLog-1:0];
      abuf_raddr_o[v] = addr[v][ColsLog +: AbufAw];
      if (!pad[v]) begin
        if (addr[v] < 0 || addr[v] >= 48'(AbufBytes)) begin
          step_err = 1'b1;
          step_err_code = StatusSramRange;
        end else if (packed_q && !res_step ? (32'(sel[v]) + 32'(maxsel_q) >= Cols) :
                     ((vector_mode || res_step) && sel[v] != '0)) begin
          step_err = 1'b1;
          step_err_code = StatusAlign;
        end
      end
    end
    wbuf_raddr_o[0] = WbufAw'(32'(w_addr_q) + step_q);
    for (int unsigned w = 0; w < ParamSetWords; w++) begin
      pbuf_raddr_o[w] = PbufAw'((ho_pending_q ? 32'(ho_p_addr_q) : 32'(p_addr_q)) + w +
                                (res_step ? ParamSetWords : 0));
    end
  end

  // ---- setup-time checks ----
  logic [63:0] ksteps;
  logic [7:0]  out_rows;                   // array rows holding pixels
  assign out_rows = 8'((32'(npix_q) + (32'd1 << gsh_q) - 32'd1) >> gsh_q);
  logic        bad_field, bad_range;
  always_comb begin
    unique case (op_q)
      OpConv:                       ksteps = 64'(kh_q) * 64'(kw_q) * 64'(ic_q);
      OpDwconv, OpMaxpool, OpAvgpool: ksteps = 64'(kh_q) * 64'(kw_q);
      OpAdd:                        ksteps = 64'd2;
      default:                      ksteps = 64'd0;
    endcase
    bad_field = 1'b0;
    bad_range = 1'b0;
    // SYNC has no tile; a DRAIN_ABUF tile has no STORE to tell
    if (op_q == OpSync ? (dabuf_q || ppu_wait_q) : (dabuf_q && (!drain_q || push_next_q))) begin
      bad_field = 1'b1;
    end
    if (op_q != OpSync) begin
      // NPIX counts pixels (R per group), NCOLS the columns of one group
      if (npix_q == 8'd0 || 32'(npix_q) > (Rows << gsh_q) || ncols_q == 8'd0 ||
          32'(ncols_q) > (Cols >> gsh_q) || out_w_q == 16'd0) begin
        bad_field = 1'b1;
      end
      // packed addressing: vector operations only; groups: 2 (MaxGroups),
      // packed DWCONV/MAXPOOL without RES (AVGPOOL counts per row)
      if (packed_q && !(op_q == OpDwconv || op_q == OpMaxpool || op_q == OpAvgpool)) begin
        bad_field = 1'b1;
      end
      if (groups_q > 3'd1 && !((groups_q == 3'd2 || groups_q == 3'd4) &&
                               32'(groups_q) <= MaxGroups && 32'(groups_q) <= Cols &&
                               packed_q && !res_q &&
                               (op_q == OpDwconv || op_q == OpMaxpool))) begin
        bad_field = 1'b1;
      end
      if (!is_add && (kh_q == 8'd0 || kw_q == 8'd0 || sh_q == 8'd0 || sw_q == 8'd0 ||
                      dh_q == 8'd0 || dw_q == 8'd0)) begin
        bad_field = 1'b1;
      end
      if (res_q && !(drain_q && (op_q == OpConv || op_q == OpDwconv))) begin
        bad_field = 1'b1;
      end
      if (op_q == OpConv && ic_q == 16'd0) begin
        bad_field = 1'b1;
      end
      if (op_q == OpDwconv && (ic_q == 16'd0 || ic_q > 16'd255 || 16'(dm_phase_q) >= ic_q)) begin
        bad_field = 1'b1;
      end
      if ((op_q == OpConv || op_q == OpDwconv) && 64'(w_addr_q) + ksteps > 64'(WbufWords)) begin
        bad_range = 1'b1;
      end
      if (drain_q) begin
        if ((op_q == OpConv || op_q == OpDwconv || op_q == OpAdd) &&
            32'(p_addr_q) + (res_q ? 2 * ParamSetWords : ParamSetWords) > PbufWords) begin
          bad_range = 1'b1;
        end
        if (64'(o_addr_q) + (64'(out_rows) - 64'd1) * 64'(o_stride_q) >=
            (dabuf_q ? 64'(AbufWords) : 64'(ObufWords))) begin
          bad_range = 1'b1;
        end
      end
    end
  end

  // ---- operands of the current step ----
  logic signed [31:0] vrow [Rows];        // CONV: (in + IN_OFF), 0 for padding
  logic signed [7:0]  wcol [Cols];
  always_comb begin
    for (int unsigned c = 0; c < Cols; c++) begin
      wcol[c] = wbuf_rdata_i[0][c*8 +: 8];
    end
    for (int unsigned r = 0; r < Rows; r++) begin
      vrow[r] = pad[r] ? 32'sd0 :
                32'(signed'(abuf_rdata_i[r][32'(sel[r])*8 +: 8])) + 32'(in_off_q);
    end
  end

  // ADD: the scaled operand of this step, per lane (only evaluated while an
  // ADD runs)
  logic signed [31:0] addv [Rows][Cols];
  always_comb begin
    for (int unsigned r = 0; r < Rows; r++) begin
      for (int unsigned c = 0; c < Cols; c++) begin
        addv[r][c] = 32'sd0;
      end
    end
    if (state_q == StRun && is_add) begin
      for (int unsigned r = 0; r < Rows; r++) begin
        for (int unsigned c = 0; c < Cols; c++) begin
          if (step_q == 32'd0) begin
            addv[r][c] = mbqm((32'(signed'(abuf_rdata_i[r][c*8 +: 8])) + 32'(in_off_q))
                              <<< lshift_q, mult_a_q, 32'(shift_a_q));
          end else begin
            addv[r][c] = mbqm((32'(signed'(abuf_rdata_i[r][c*8 +: 8])) + 32'(in_off_b_q))
                              <<< lshift_q, mult_b_q, 32'(shift_b_q));
          end
        end
      end
    end
  end

  logic zero_acc;
  logic last_step;
  assign zero_acc = first_q & clear_q;
  assign last_step = (step_q + 32'd1 == nsteps_q);
  assign res_step = res_q && (state_q == StRun) && last_step;

  // ---- array: one always_ff per row; a row's next value is built in a
  // temporary and written back as a whole ----
  for (genvar r = 0; r < Rows; r++) begin : g_row
    always_ff @(posedge clk_i) begin
      if (state_q == StRun && !step_err && !res_step) begin
        logic signed [31:0] nxt [Cols];
        for (int unsigned c = 0; c < Cols; c++) begin
          logic signed [31:0] a;
          logic signed [7:0]  vx;
          logic [$clog2(VRows)-1:0] vr;
          a = acc_q[r][c];
          vr = $clog2(VRows)'(r);
          vx = '0;
          // vector mode: the column's byte of its (virtual) row's word
          if (vector_mode && !is_add) begin
            vr = $clog2(VRows)'(vrow_of(r, c, gsh_q));
            vx = signed'(abuf_rdata_i[vr][32'(ColsLog'(sel[vr] + dmsel_q[c]))*8 +: 8]);
          end
          unique case (op_q)
            OpConv:   nxt[c] = (zero_acc ? 32'sd0 : a) + vrow[r] * 32'(wcol[c]);
            OpDwconv: nxt[c] = (zero_acc ? 32'sd0 : a) +
                               (pad[vr] ? 32'sd0 : 32'(vx) + 32'(in_off_q)) * 32'(wcol[c]);
            OpMaxpool: begin
              if (zero_acc) begin
                a = 32'sh8000_0000;
              end
              nxt[c] = (!pad[vr] && 32'(vx) > a) ? 32'(vx) : a;
            end
            OpAvgpool: nxt[c] = (zero_acc ? 32'sd0 : a) + (pad[vr] ? 32'sd0 : 32'(vx));
            OpAdd:     nxt[c] = (zero_acc ? 32'sd0 : a) + addv[r][c];
            default:   nxt[c] = a;
          endcase
        end
        acc_q[r] <= nxt;
        if (op_q == OpAvgpool) begin
          cnt_q[r] <= (zero_acc ? 16'd0 : cnt_q[r]) + 16'(!pad[r]);
        end
      end
    end
  end

  // the residual words: the physical rows' ports (group 0)
  always_ff @(posedge clk_i) begin
    if (res_step && !step_err) begin
      logic [Cols*8-1:0] rword_t [Rows];
      for (int unsigned r = 0; r < Rows; r++) begin
        rword_t[r] = abuf_rdata_i[r];
      end
      rword_q <= rword_t;
      rset_q  <= pbuf_rdata_i;
    end
  end

  // ---- sequencer ----
  logic ppu_busy, ppu_start, ppu_push_next;
  logic push_next_direct_q;
  logic accept;
  // hand-off to the PPU one cycle after the last step, from a copy of the
  // finished command's output fields (the next command may already be set up)
  logic               ho_pending_q, ho_push_next_q, ho_fp_q, fp_q, ho_res_q;
  logic signed [7:0]  rp_zp_q, rp_oshift_q, rp_min_q, rp_max_q, rp_shift_a_q, rp_shift_b_q;
  logic signed [15:0] rp_off_b_q;
  logic [4:0]         rp_lshift_q;
  logic [7:0]         ho_op_q, ho_npix_q;
  logic [19:0]        ho_o_addr_q;
  logic [15:0]        ho_o_stride_q, ho_p_addr_q;
  logic signed [7:0]  ho_zp_q, ho_min_q, ho_max_q;
  logic               ho_dabuf_q;
  logic [Cols-1:0]    ho_colmask_q, colmask;
  // the columns holding channels: c mod (Cols / groups) < NCOLS
  always_comb begin
    for (int unsigned c = 0; c < Cols; c++) begin
      colmask[c] = 32'(c & ((Cols >> gsh_q) - 1)) < 32'(ncols_q);
    end
  end
  logic               ppu_abuf, ppu_we [2];
  logic [19:0]        ppu_waddr [2];
  logic [Cols*8-1:0]  ppu_wdata [2];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q            <= StIdle;
      op_q               <= '0;
      clear_q            <= 1'b0;
      drain_q            <= 1'b0;
      push_prev_q        <= 1'b0;
      push_next_q        <= 1'b0;
      fp_q               <= 1'b0;
      res_q              <= 1'b0;
      dabuf_q            <= 1'b0;
      ppu_wait_q         <= 1'b0;
      ho_dabuf_q         <= 1'b0;
      ho_colmask_q       <= '0;
      packed_q           <= 1'b0;
      groups_q           <= '0;
      gsh_q              <= '0;
      maxsel_q           <= '0;
      res_stride_q       <= '0;
      res_zp_q           <= '0;
      res_oshift_q       <= '0;
      res_min_q          <= '0;
      res_max_q          <= '0;
      ho_res_q           <= 1'b0;
      rp_zp_q            <= '0;
      rp_oshift_q        <= '0;
      rp_min_q           <= '0;
      rp_max_q           <= '0;
      rp_shift_a_q       <= '0;
      rp_shift_b_q       <= '0;
      rp_off_b_q         <= '0;
      rp_lshift_q        <= '0;
      a_addr_q           <= '0;
      b_addr_q           <= '0;
      w_addr_q           <= '0;
      o_addr_q           <= '0;
      pix_stride_q       <= '0;
      row_stride_q       <= '0;
      in_h_q             <= '0;
      in_w_q             <= '0;
      out_w_q            <= '0;
      pix0_q             <= '0;
      ic_q               <= '0;
      p_addr_q           <= '0;
      o_stride_q         <= '0;
      npix_q             <= '0;
      ncols_q            <= '0;
      kh_q               <= '0;
      kw_q               <= '0;
      sh_q               <= '0;
      sw_q               <= '0;
      dh_q               <= '0;
      dw_q               <= '0;
      dm_phase_q         <= '0;
      pad_t_q            <= '0;
      pad_l_q            <= '0;
      zp_q               <= '0;
      act_min_q          <= '0;
      act_max_q          <= '0;
      shift_a_q          <= '0;
      shift_b_q          <= '0;
      in_off_q           <= '0;
      in_off_b_q         <= '0;
      lshift_q           <= '0;
      mult_a_q           <= '0;
      mult_b_q           <= '0;
      nsteps_q           <= '0;
      step_q             <= '0;
      i_q                <= '0;
      kx_q               <= '0;
      ky_q               <= '0;
      offy_q             <= '0;
      offx_q             <= '0;
      offya_q            <= '0;
      offxa_q            <= '0;
      first_q            <= 1'b0;
      err_code_q         <= StatusOk;
      push_prev_o        <= 1'b0;
      push_next_direct_q <= 1'b0;
      ho_pending_q       <= 1'b0;
      ho_op_q            <= '0;
      ho_npix_q          <= '0;
      ho_o_addr_q        <= '0;
      ho_o_stride_q      <= '0;
      ho_p_addr_q        <= '0;
      ho_zp_q            <= '0;
      ho_min_q           <= '0;
      ho_max_q           <= '0;
      ho_push_next_q     <= 1'b0;
      ho_fp_q            <= 1'b0;
      base_q             <= '{default: '0};
      iy0_q              <= '{default: '0};
      ix0_q              <= '{default: '0};
      ox0_q              <= '{default: '0};
      dmsel_q            <= '{default: '0};
    end else begin
      push_prev_o        <= 1'b0;
      push_next_direct_q <= 1'b0;
      ho_pending_q       <= 1'b0;
      unique case (state_q)
        StIdle: begin
          if (cmd_valid_i) begin
            state_q <= StSetup;
          end
        end
        StSetup: begin
          if (ppu_wait_q && (ppu_busy || ho_pending_q)) begin
            state_q <= StSetup;
          end else if (bad_field) begin
            err_code_q <= StatusBadField;
            state_q    <= StErr;
          end else if (bad_range) begin
            err_code_q <= StatusSramRange;
            state_q    <= StErr;
          end else if (op_q == OpSync) begin
            push_prev_o        <= push_prev_q;
            push_next_direct_q <= push_next_q;
            state_q            <= StIdle;
          end else begin
            // setup-time temporaries, copied to the _q arrays as a whole
            logic signed [47:0] base_t [Rows];
            logic signed [31:0] iy_t [Rows];
            logic signed [31:0] ix_t [Rows];
            logic [15:0]        ox_t [Rows];
            logic [ColsLog-1:0] dmsel_t [Cols];
            for (int unsigned v = 0; v < Rows; v++) begin
              logic [31:0] p, oy, ox;
              p = 32'(pix0_q) + (32'(v) << gsh_q);
              oy = p / 32'(out_w_q);
              ox = p % 32'(out_w_q);
              ox_t[v] = ox[15:0];
              if (is_add) begin
                iy_t[v] = signed'(oy);
                ix_t[v] = signed'(ox);
              end else begin
                iy_t[v] = signed'(oy * 32'(sh_q)) - 32'(pad_t_q);
                ix_t[v] = signed'(ox * 32'(sw_q)) - 32'(pad_l_q);
              end
              base_t[v] = 48'(signed'({1'b0, a_addr_q})) + 48'(iy_t[v]) * 48'(row_stride_q) +
                          48'(ix_t[v]) * 48'(pix_stride_q);
            end
            // a column's channel within its group
            for (int unsigned c = 0; c < Cols; c++) begin
              if (op_q == OpDwconv) begin
                dmsel_t[c] = ColsLog'((32'(dm_phase_q) + (c & ((Cols >> gsh_q) - 1))) /
                                      32'(ic_q));
              end else begin
                dmsel_t[c] = ColsLog'(c & ((Cols >> gsh_q) - 1));
              end
            end
            maxsel_q <= (op_q == OpDwconv) ?
                        ColsLog'((32'(dm_phase_q) + 32'(ncols_q) - 1) / 32'(ic_q)) :
                        ColsLog'(32'(ncols_q) - 1);
            iy0_q   <= iy_t;
            ix0_q   <= ix_t;
            base_q  <= base_t;
            ox0_q   <= ox_t;
            dmsel_q <= dmsel_t;
            nsteps_q <= ksteps[31:0] + (res_q ? 32'd1 : 32'd0);
            step_q   <= '0;
            i_q      <= '0;
            kx_q     <= '0;
            ky_q     <= '0;
            offy_q   <= '0;
            offx_q   <= '0;
            offya_q  <= '0;
            offxa_q  <= '0;
            first_q  <= 1'b1;
            state_q  <= StRun;
          end
        end
        StRun: begin
          if (step_err) begin
            err_code_q <= step_err_code;
            state_q    <= StErr;
          end else begin
            first_q <= 1'b0;
            step_q  <= step_q + 32'd1;
            if (op_q == OpConv && i_q + 16'd1 != ic_q) begin
              i_q <= i_q + 16'd1;
            end else begin
              i_q <= '0;
              if (kx_q + 8'd1 != kw_q) begin
                kx_q    <= kx_q + 8'd1;
                offx_q  <= offx_q + 32'(dw_q);
                offxa_q <= offxa_q + 48'(dw_q) * 48'(pix_stride_q);
              end else begin
                kx_q    <= '0;
                offx_q  <= '0;
                offxa_q <= '0;
                ky_q    <= ky_q + 8'd1;
                offy_q  <= offy_q + 32'(dh_q);
                offya_q <= offya_q + 48'(dh_q) * 48'(row_stride_q);
              end
            end
            if (res_step) begin
              rp_zp_q      <= res_zp_q;
              rp_oshift_q  <= res_oshift_q;
              rp_min_q     <= res_min_q;
              rp_max_q     <= res_max_q;
              rp_shift_a_q <= shift_a_q;
              rp_shift_b_q <= shift_b_q;
              rp_off_b_q   <= in_off_b_q;
              rp_lshift_q  <= lshift_q;
            end
            if (last_step) begin
              if (drain_q && ppu_busy) begin
                state_q <= StHandoff;
              end else begin
                // the PPU (if draining) takes the accumulators next cycle
                // from the ho_* copy while the next command sets up
                push_prev_o        <= push_prev_q;
                push_next_direct_q <= push_next_q && !drain_q;
                ho_pending_q       <= drain_q;
                ho_op_q            <= op_q;
                ho_npix_q          <= out_rows;
                ho_o_addr_q        <= o_addr_q;
                ho_o_stride_q      <= o_stride_q;
                ho_p_addr_q        <= p_addr_q;
                ho_zp_q            <= zp_q;
                ho_min_q           <= act_min_q;
                ho_max_q           <= act_max_q;
                ho_push_next_q     <= push_next_q;
                ho_fp_q            <= fp_q;
                ho_res_q           <= res_q;
                ho_dabuf_q         <= dabuf_q;
                ho_colmask_q       <= colmask;
                state_q            <= cmd_valid_i ? StSetup : StIdle;
              end
            end
          end
        end
        StHandoff: begin
          if (!ppu_busy) begin
            push_prev_o <= push_prev_q;
            state_q     <= StIdle;
          end
        end
        StErr: state_q <= StErr;
        default: state_q <= StIdle;
      endcase
      // a new command is taken in StIdle or in the last step of the previous
      if (accept) begin
        op_q         <= cmd_i[CmdOpcodeLsb +: 8];
        clear_q      <= cmd_i[CmdAccClearLsb];
        drain_q      <= cmd_i[CmdDrainLsb] && (cmd_i[CmdOpcodeLsb +: 8] != OpSync);
        push_prev_q  <= cmd_i[CmdPushPrevLsb];
        push_next_q  <= cmd_i[CmdPushNextLsb];
        fp_q         <= cmd_i[CmdPpuFpLsb];
        res_q        <= cmd_i[CmdResLsb];
        dabuf_q      <= cmd_i[CmdDrainAbufLsb];
        ppu_wait_q   <= cmd_i[CmdPpuWaitLsb];
        packed_q     <= cmd_i[CmdPackedLsb];
        groups_q     <= cmd_i[CmdColGroupsLsb +: 3];
        gsh_q        <= cmd_i[CmdColGroupsLsb +: 3] == 3'd4 ? 2'd2 :
                        cmd_i[CmdColGroupsLsb +: 3] == 3'd2 ? 2'd1 : 2'd0;
        res_stride_q <= cmd_i[CmdResStrideLsb +: 16];
        res_zp_q     <= cmd_i[CmdResZpLsb +: 8];
        res_oshift_q <= cmd_i[CmdResOutShiftLsb +: 8];
        res_min_q    <= cmd_i[CmdResMinLsb +: 8];
        res_max_q    <= cmd_i[CmdResMaxLsb +: 8];
        a_addr_q     <= cmd_i[CmdAAddrLsb +: 20];
        b_addr_q     <= cmd_i[CmdBAddrLsb +: 20];
        w_addr_q     <= cmd_i[CmdWAddrLsb +: 20];
        o_addr_q     <= cmd_i[CmdOAddrLsb +: 20];
        pix_stride_q <= cmd_i[CmdPixStrideLsb +: 16];
        row_stride_q <= cmd_i[CmdRowStrideLsb +: 16];
        in_h_q       <= cmd_i[CmdInHLsb +: 16];
        in_w_q       <= cmd_i[CmdInWLsb +: 16];
        out_w_q      <= cmd_i[CmdOutWLsb +: 16];
        pix0_q       <= cmd_i[CmdPix0Lsb +: 16];
        ic_q         <= cmd_i[CmdIcLsb +: 16];
        p_addr_q     <= cmd_i[CmdPAddrLsb +: 16];
        o_stride_q   <= cmd_i[CmdOStrideLsb +: 16];
        npix_q       <= cmd_i[CmdNpixLsb +: 8];
        ncols_q      <= cmd_i[CmdNcolsLsb +: 8];
        kh_q         <= cmd_i[CmdKhLsb +: 8];
        kw_q         <= cmd_i[CmdKwLsb +: 8];
        sh_q         <= cmd_i[CmdStrideHLsb +: 8];
        sw_q         <= cmd_i[CmdStrideWLsb +: 8];
        dh_q         <= cmd_i[CmdDilHLsb +: 8];
        dw_q         <= cmd_i[CmdDilWLsb +: 8];
        dm_phase_q   <= cmd_i[CmdDmPhaseLsb +: 8];
        pad_t_q      <= cmd_i[CmdPadTLsb +: 8];
        pad_l_q      <= cmd_i[CmdPadLLsb +: 8];
        zp_q         <= cmd_i[CmdOutZpLsb +: 8];
        act_min_q    <= cmd_i[CmdActMinLsb +: 8];
        act_max_q    <= cmd_i[CmdActMaxLsb +: 8];
        shift_a_q    <= cmd_i[CmdAddShiftALsb +: 8];
        shift_b_q    <= cmd_i[CmdAddShiftBLsb +: 8];
        in_off_q     <= cmd_i[CmdInOffLsb +: 16];
        in_off_b_q   <= cmd_i[CmdInOffBLsb +: 16];
        lshift_q     <= cmd_i[CmdAddLshiftLsb +: 5];
        mult_a_q     <= cmd_i[CmdAddMultALsb +: 32];
        mult_b_q     <= cmd_i[CmdAddMultBLsb +: 32];
      end
    end
  end

  assign ppu_start = ho_pending_q || ((state_q == StHandoff) && !ppu_busy);

  qnpu_ppu #(
    .Rows      (Rows),
    .Cols      (Cols)
  ) u_ppu (
    .clk_i,
    .rst_ni,
    .start_i      (ppu_start),
    .op_i         (ho_pending_q ? ho_op_q : op_q),
    .acc_i        (acc_q),
    .cnt_i        (cnt_q),
    .pset_i       (pbuf_rdata_i),
    .npix_i       (ho_pending_q ? ho_npix_q : out_rows),
    .o_addr_i     (ho_pending_q ? ho_o_addr_q : o_addr_q),
    .o_stride_i   (ho_pending_q ? ho_o_stride_q : o_stride_q),
    .zp_i         (ho_pending_q ? ho_zp_q : zp_q),
    .act_min_i    (ho_pending_q ? ho_min_q : act_min_q),
    .act_max_i    (ho_pending_q ? ho_max_q : act_max_q),
    .push_next_i  (ho_pending_q ? ho_push_next_q : push_next_q),
    .fp_i         (ho_pending_q ? ho_fp_q : fp_q),
    .res_i        (ho_pending_q ? ho_res_q : res_q),
    .rword_i      (rword_q),
    .rset_i       (rset_q),
    .res_zp_i     (rp_zp_q),
    .res_oshift_i (rp_oshift_q),
    .res_min_i    (rp_min_q),
    .res_max_i    (rp_max_q),
    .res_shift_a_i(rp_shift_a_q),
    .res_shift_b_i(rp_shift_b_q),
    .res_off_b_i  (rp_off_b_q),
    .res_lshift_i (rp_lshift_q),
    .abuf_i       (ho_pending_q ? ho_dabuf_q : dabuf_q),
    .colmask_i    (ho_pending_q ? ho_colmask_q : colmask),
    .busy_o       (ppu_busy),
    .push_next_o  (ppu_push_next),
    .abuf_o       (ppu_abuf),
    .we_o         (ppu_we),
    .waddr_o      (ppu_waddr),
    .wdata_o      (ppu_wdata)
  );

  // the PPU's two write ports go to OBUF or, with DRAIN_ABUF, to ABUF
  always_comb begin
    for (int unsigned l = 0; l < 2; l++) begin
      obuf_we_o[l]    = ppu_we[l] && !ppu_abuf;
      obuf_waddr_o[l] = ppu_waddr[l][ObufAw-1:0];
      obuf_wdata_o[l] = ppu_wdata[l];
      abuf_we_o[l]    = ppu_we[l] && ppu_abuf;
      abuf_waddr_o[l] = ppu_waddr[l][AbufAw-1:0];
      abuf_wdata_o[l] = ppu_wdata[l];
    end
  end

  assign abuf_groups_o = (gsh_q != 2'd0);
  assign cmd_ready_o = (state_q == StIdle) ||
                       (state_q == StRun && last_step && !step_err && !(drain_q && ppu_busy));
  assign accept      = cmd_valid_i && cmd_ready_o;
  assign push_next_o = ppu_push_next | push_next_direct_q;
  assign busy_o      = ((state_q != StIdle) && (state_q != StErr)) || push_prev_o || ho_pending_q ||
                       push_next_direct_q || ppu_busy;
  assign active_o    = (state_q == StRun);
  assign stall_ppu_o = ((state_q == StHandoff) && ppu_busy) ||
                       ((state_q == StSetup) && ppu_wait_q && (ppu_busy || ho_pending_q));
  assign err_o       = (state_q == StErr);
  assign err_code_o  = err_code_q;
  assign macs_o      = (state_q == StRun && !res_step && (op_q == OpConv || op_q == OpDwconv)) ?
                       16'(npix_q) * 16'(ncols_q) : 16'd0;
endmodule
