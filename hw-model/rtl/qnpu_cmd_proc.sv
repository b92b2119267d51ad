// Command processor: checks each command's opcode and token flags, queues it
// for its engine (load, compute, store), hands queue heads to the engines once
// their dependency tokens are available, and decides when the job is over
// (all commands retired, an engine error, or a token deadlock).

module qnpu_cmd_proc
  import qnpu_pkg::*;
#(
  parameter int unsigned QDepth = 4
) (
  input  logic         clk_i,
  input  logic         rst_ni,
  input  logic         job_start_i,
  input  logic [31:0]  job_ncmds_i,
  input  logic         cmd_valid_i,
  input  logic [511:0] cmd_i,
  output logic         cmd_ready_o,
  // engines: 0 load, 1 compute, 2 store
  output logic         eng_valid_o [3],
  output logic [511:0] eng_cmd_o [3],
  input  logic         eng_ready_i [3],
  input  logic         eng_busy_i [3],
  input  logic         eng_err_i [3],
  input  logic [7:0]   eng_err_code_i [3],
  input  logic         ld_push_next_i,
  input  logic         cp_push_prev_i,
  input  logic         cp_push_next_i,
  input  logic         st_push_prev_i,
  output logic         tok_stall_o [3],
  output logic         disp_stall_o,
  output logic         job_active_o,
  output logic [31:0]  ld_idx_o,
  output logic [31:0]  st_idx_o,
  output logic         job_done_o,
  output logic [7:0]   job_status_o,
  output logic [31:0]  job_err_cmd_o
);
  localparam int unsigned EngLoad = 0;
  localparam int unsigned EngCompute = 1;
  localparam int unsigned EngStore = 2;

  logic        active_q, done_q;
  logic [7:0]  status_q;
  logic [31:0] err_cmd_q;
  logic [31:0] ncmds_q, ndisp_q;
  logic [31:0] cur_idx_q [3];
  logic [7:0]  tok_l2c_q, tok_c2l_q, tok_c2s_q, tok_s2c_q;

  // ---- decode of the incoming command ----
  logic [7:0] in_op;
  logic       in_pop_prev, in_pop_next, in_push_prev, in_push_next;
  logic [1:0] in_eng;
  logic       in_bad_op, in_bad_tok;

  assign in_op        = cmd_i[CmdOpcodeLsb +: 8];
  assign in_pop_prev  = cmd_i[CmdPopPrevLsb];
  assign in_pop_next  = cmd_i[CmdPopNextLsb];
  assign in_push_prev = cmd_i[CmdPushPrevLsb];
  assign in_push_next = cmd_i[CmdPushNextLsb];

  always_comb begin
    in_eng = 2'd1;
    in_bad_op = 1'b0;
    in_bad_tok = 1'b0;
    unique case (in_op)
      OpLoad: begin
        in_eng = 2'd0;
        in_bad_tok = in_pop_prev | in_push_prev;
      end
      OpStore: begin
        in_eng = 2'd2;
        in_bad_tok = in_pop_next | in_push_next;
      end
      OpConv, OpDwconv, OpMaxpool, OpAvgpool, OpAdd, OpSync: in_eng = 2'd1;
      default: in_bad_op = 1'b1;
    endcase
  end

  // ---- queues ----
  logic         q_push [3];
  logic         q_pop [3];
  logic [543:0] q_out [3];
  logic         q_empty [3];
  logic         q_full [3];
  logic         all_disp;
  logic         running;

  assign all_disp = (ndisp_q == ncmds_q);
  assign running  = active_q & ~done_q;

  for (genvar e = 0; e < 3; e++) begin : g_q
    qnpu_fifo #(
      .Width (544),
      .Depth (QDepth)
    ) u_fifo (
      .clk_i,
      .rst_ni,
      .push_i  (q_push[e]),
      .data_i  ({ndisp_q, cmd_i}),
      .pop_i   (q_pop[e]),
      .data_o  (q_out[e]),
      .empty_o (q_empty[e]),
      .full_o  (q_full[e])
    );
  end

  logic in_take, in_bad;
  assign in_bad = in_bad_op | in_bad_tok;
  always_comb begin
    in_take = 1'b0;
    if (running && cmd_valid_i && !all_disp) begin
      in_take = in_bad | ~q_full[in_eng];
    end
  end
  assign cmd_ready_o = in_take;

  always_comb begin
    for (int unsigned e = 0; e < 3; e++) begin
      q_push[e] = in_take && !in_bad && (32'(in_eng) == e);
    end
  end

  // ---- token availability for queue heads ----
  logic head_pop_prev [3], head_pop_next [3];
  logic head_ok [3];
  always_comb begin
    for (int unsigned e = 0; e < 3; e++) begin
      head_pop_prev[e] = q_out[e][CmdPopPrevLsb];
      head_pop_next[e] = q_out[e][CmdPopNextLsb];
    end
    head_ok[EngLoad]    = !head_pop_next[EngLoad] || tok_c2l_q != 8'd0;
    head_ok[EngCompute] = (!head_pop_prev[EngCompute] || tok_l2c_q != 8'd0) &&
                          (!head_pop_next[EngCompute] || tok_s2c_q != 8'd0);
    head_ok[EngStore]   = !head_pop_prev[EngStore] || tok_c2s_q != 8'd0;
    for (int unsigned e = 0; e < 3; e++) begin
      eng_valid_o[e] = running && !q_empty[e] && head_ok[e];
      eng_cmd_o[e]   = q_out[e][511:0];
      q_pop[e]       = eng_valid_o[e] && eng_ready_i[e];
      tok_stall_o[e] = running && !q_empty[e] && !head_ok[e];
    end
  end

  logic [31:0] cur_idx_d [3];
  always_comb begin
    for (int unsigned e = 0; e < 3; e++) begin
      cur_idx_d[e] = q_pop[e] ? q_out[e][543:512] : cur_idx_q[e];
    end
  end

  // ---- token counters ----
  logic [8:0] l2c_d, c2l_d, c2s_d, s2c_d;
  always_comb begin
    l2c_d = {1'b0, tok_l2c_q} + 9'(ld_push_next_i)
          - 9'(q_pop[EngCompute] && head_pop_prev[EngCompute]);
    s2c_d = {1'b0, tok_s2c_q} + 9'(st_push_prev_i)
          - 9'(q_pop[EngCompute] && head_pop_next[EngCompute]);
    c2l_d = {1'b0, tok_c2l_q} + 9'(cp_push_prev_i)
          - 9'(q_pop[EngLoad] && head_pop_next[EngLoad]);
    c2s_d = {1'b0, tok_c2s_q} + 9'(cp_push_next_i)
          - 9'(q_pop[EngStore] && head_pop_prev[EngStore]);
  end

  // ---- job end ----
  logic any_busy, any_blocked, all_idle_or_blocked, dispatch_stuck, deadlock;
  logic any_err;
  logic [7:0]  err_code;
  logic [31:0] err_idx;
  always_comb begin
    any_busy = 1'b0;
    any_blocked = 1'b0;
    all_idle_or_blocked = 1'b1;
    any_err = 1'b0;
    err_code = StatusOk;
    err_idx = '0;
    for (int unsigned e = 0; e < 3; e++) begin
      any_busy = any_busy | eng_busy_i[e];
      any_blocked = any_blocked | tok_stall_o[e];
      if (!q_empty[e] && head_ok[e]) begin
        all_idle_or_blocked = 1'b0;
      end
    end
    for (int e = 2; e >= 0; e--) begin
      if (eng_err_i[e]) begin
        any_err = 1'b1;
        err_code = eng_err_code_i[e];
        err_idx = cur_idx_q[e];
      end
    end
    dispatch_stuck = all_disp || (cmd_valid_i && !in_bad && q_full[in_eng]);
    deadlock = running && !any_busy && any_blocked && all_idle_or_blocked && dispatch_stuck;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      active_q  <= 1'b0;
      done_q    <= 1'b0;
      status_q  <= StatusOk;
      err_cmd_q <= '0;
      ncmds_q   <= '0;
      ndisp_q   <= '0;
      tok_l2c_q <= '0;
      tok_c2l_q <= '0;
      tok_c2s_q <= '0;
      tok_s2c_q <= '0;
      cur_idx_q <= '{default: '0};
    end else if (job_start_i) begin
      active_q  <= 1'b1;
      done_q    <= 1'b0;
      status_q  <= StatusOk;
      err_cmd_q <= '0;
      ncmds_q   <= job_ncmds_i;
      ndisp_q   <= '0;
      tok_l2c_q <= '0;
      tok_c2l_q <= '0;
      tok_c2s_q <= '0;
      tok_s2c_q <= '0;
    end else if (running) begin
      if (in_take) begin
        ndisp_q <= ndisp_q + 32'd1;
      end
      cur_idx_q <= cur_idx_d;
      tok_l2c_q <= l2c_d[7:0];
      tok_c2l_q <= c2l_d[7:0];
      tok_c2s_q <= c2s_d[7:0];
      tok_s2c_q <= s2c_d[7:0];
      if (in_take && in_bad) begin
        done_q    <= 1'b1;
        status_q  <= in_bad_op ? StatusBadOpcode : StatusBadField;
        err_cmd_q <= ndisp_q;
      end else if (any_err) begin
        done_q    <= 1'b1;
        status_q  <= err_code;
        err_cmd_q <= err_idx;
      end else if (l2c_d[8] || c2l_d[8] || c2s_d[8] || s2c_d[8]) begin
        done_q    <= 1'b1;
        status_q  <= StatusTokenOverflow;
      end else if (deadlock) begin
        done_q    <= 1'b1;
        status_q  <= StatusDeadlock;
      end else if (all_disp && !any_busy && q_empty[0] && q_empty[1] && q_empty[2]) begin
        done_q    <= 1'b1;
        status_q  <= StatusOk;
      end
    end
  end

  assign disp_stall_o  = running && !all_disp && !(cmd_valid_i && in_take);
  assign job_active_o  = running;
  assign ld_idx_o      = cur_idx_q[0];
  assign st_idx_o      = cur_idx_q[2];
  assign job_done_o    = done_q;
  assign job_status_o  = status_q;
  assign job_err_cmd_o = err_cmd_q;
endmodule
