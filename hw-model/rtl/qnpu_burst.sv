// Row-burst walker shared by the load and store engines. It takes a LOAD or
// STORE command (ROWS x ROW_BYTES between device memory and one SRAM), checks
// it once, then walks it with two independent halves, as an AXI-style master
// does:
//  * requests: one memory burst request per row, issued back to back as long
//    as the memory system takes them (req_ready_i is its back-pressure, e.g.
//    its limit of outstanding requests), so a slow memory's latency overlaps
//    the data of earlier rows;
//  * data: one SRAM word (Cols bytes) per beat, in row order, every row
//    starting at a word boundary. A beat moves when the engine offers it
//    (take_o) and the memory side agrees (beat_i: read data valid, or the
//    write channel ready). The DMA port moves DmaBytes per cycle, so a word
//    is offered at most every Cols / DmaBytes cycles.
// The engine holds up to Depth commands: the one whose data moves, and the
// ones behind it, checked and requested (or requesting) but waiting for
// their data. The request half takes the next command as soon as its own
// rows are all requested and fewer than Depth commands are held, so the
// check and requests of up to Depth - 1 later commands overlap the memory
// latency of the first; the memory's limit of outstanding bursts
// (req_ready_i) applies across all of them. Data stays in request order,
// command after command. A token the command pops is taken when the engine
// accepts it, so a LOAD with POP_NEXT issues nothing before it has its
// token. With Depth 1 (the store engine) a command is taken only when the
// previous one's data is all moved.
// The engines add only the direction: where a beat's data comes from and
// goes to.

module qnpu_burst
  import qnpu_pkg::*;
#(
  parameter int unsigned Cols = 16,
  parameter int unsigned DmaBytes = Cols,
  // the command's token flag released when it is done (LOAD: PUSH_NEXT,
  // STORE: PUSH_PREV)
  parameter int unsigned PushLsb = CmdPushNextLsb,
  // commands held at once (>= 1): Depth - 1 may request while the first
  // one's data moves
  parameter int unsigned Depth = 1
) (
  input  logic         clk_i,
  input  logic         rst_ni,
  input  logic         cmd_valid_i,
  input  logic [511:0] cmd_i,
  output logic         cmd_ready_o,
  output logic         busy_o,
  output logic         push_o,
  output logic         err_o,
  output logic [7:0]   err_code_o,
  output logic [15:0]  bytes_o,
  // chk_buf_o: the buffer field of the command being checked, buf_words_i
  // that buffer's size in words from the engine (0: not a buffer this engine
  // serves); buf_o, row_bytes_o: buffer and row length of the moving data
  output logic [3:0]   chk_buf_o,
  input  logic [31:0]  buf_words_i,
  output logic [3:0]   buf_o,
  output logic [15:0]  row_bytes_o,
  // memory burst requests, one per row
  output logic         req_valid_o,
  output logic [39:0]  req_addr_o,
  output logic [15:0]  req_len_o,
  input  logic         req_ready_i,
  // take_o: the engine can move a beat this cycle; beat_i: the memory side
  // can (read data valid / write channel ready); beat_o: one moves, to or
  // from SRAM word sram_addr_o, the last of its row if last_beat_o
  output logic         take_o,
  input  logic         beat_i,
  output logic         beat_o,
  output logic         last_beat_o,
  output logic [19:0]  sram_addr_o
);
  localparam int unsigned ColsLog = $clog2(Cols);
  localparam int unsigned WordCycles = Cols / DmaBytes;
  localparam int unsigned PaceW = $clog2(WordCycles + 1);
  // the commands waiting behind the moving one: a ring of WaitN
  localparam int unsigned WaitN = Depth > 1 ? Depth - 1 : 1;
  localparam int unsigned WaitAw = WaitN > 1 ? $clog2(WaitN) : 1;
  localparam int unsigned CntW = $clog2(Depth + 1);

  // data descriptor: what the data half needs of a command
  typedef struct packed {
    logic [3:0]  buff;
    logic [15:0] row_bytes;
    logic [15:0] rows;
    logic [19:0] sram_row;
    logic [19:0] sram_stride;
    logic        push;
  } desc_t;

  typedef enum logic [1:0] {
    StIdle,
    StCheck,
    StRun,
    StErr
  } state_e;

  // request half: the command being checked, then requested
  state_e      state_q;
  desc_t       req_q;
  logic [39:0] req_addr_q;
  logic [31:0] dstride_q;
  logic [15:0] req_left_q;
  // rows requested whose data has not all moved (all commands)
  logic [16:0] inflight_q;
  // data half: the command whose data moves (cur), the ones waiting behind
  // it (a ring: wait_n_q of them from wait_rd_q on)
  logic        cur_v_q;
  desc_t       cur_q;
  desc_t       wait_q [WaitN];
  logic [WaitAw-1:0] wait_rd_q, wait_wr_q;
  logic [CntW-1:0]   wait_n_q;
  logic [19:0] sram_addr_q;
  logic [15:0] beats_left_q;
  logic [PaceW-1:0] pace_q;
  logic [7:0]  err_code_q;

  function automatic logic [15:0] beats_of(logic [15:0] row_bytes);
    return 16'((32'(row_bytes) + Cols - 1) >> ColsLog);
  endfunction

  function automatic logic [WaitAw-1:0] wait_next(logic [WaitAw-1:0] i);
    return 32'(i) == WaitN - 1 ? '0 : i + WaitAw'(1);
  endfunction

  // range check of the whole command, done once in StCheck
  logic [63:0] last_word;
  assign last_word = 64'(req_q.sram_row) + (64'(req_q.rows) - 64'd1) * 64'(req_q.sram_stride)
                   + 64'(beats_of(req_q.row_bytes)) - 64'd1;

  logic req_fire, row_done, cmd_done, chk_ok, to_cur, wait_push, wait_pop;
  logic [CntW:0] held;
  assign req_valid_o = (state_q == StRun);
  assign req_addr_o  = req_addr_q;
  assign req_len_o   = req_q.row_bytes;
  assign req_fire    = req_valid_o && req_ready_i;
  assign bytes_o     = req_fire ? req_q.row_bytes : 16'd0;

  // data moves only for rows already requested
  assign take_o      = cur_v_q && (inflight_q != 17'd0) && (pace_q == '0);
  assign beat_o      = take_o && beat_i;
  assign last_beat_o = (beats_left_q == 16'd1);
  assign row_done    = beat_o && last_beat_o;
  assign cmd_done    = row_done && (cur_q.rows == 16'd1);
  assign sram_addr_o = sram_addr_q;

  assign chk_ok = (state_q == StCheck) && req_q.row_bytes != '0 && req_q.rows != '0 &&
                  buf_words_i != '0 && last_word < 64'(buf_words_i);
  // a checked command goes straight to the data half when that is free (or
  // frees this cycle with nothing behind), else it waits behind it
  assign to_cur    = !cur_v_q || (cmd_done && wait_n_q == '0);
  assign wait_push = chk_ok && !to_cur;
  assign wait_pop  = cmd_done && wait_n_q != '0;

  // commands held by the data half; the request half is idle, so none is
  // being checked
  assign held        = (CntW+1)'(cur_v_q) + (CntW+1)'(wait_n_q);
  assign cmd_ready_o = (state_q == StIdle) && held < (CntW+1)'(Depth);
  assign busy_o      = ((state_q != StIdle) && (state_q != StErr)) || cur_v_q || push_o;
  assign err_o       = (state_q == StErr);
  assign err_code_o  = err_code_q;
  assign chk_buf_o   = req_q.buff;
  assign buf_o       = cur_q.buff;
  assign row_bytes_o = cur_q.row_bytes;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q      <= StIdle;
      req_q        <= '0;
      req_addr_q   <= '0;
      dstride_q    <= '0;
      req_left_q   <= '0;
      inflight_q   <= '0;
      cur_v_q      <= 1'b0;
      cur_q        <= '0;
      wait_rd_q    <= '0;
      wait_wr_q    <= '0;
      wait_n_q     <= '0;
      sram_addr_q  <= '0;
      beats_left_q <= '0;
      pace_q       <= '0;
      err_code_q   <= StatusOk;
      push_o       <= 1'b0;
    end else begin
      push_o <= 1'b0;
      inflight_q <= inflight_q + 17'(req_fire) - 17'(row_done);

      // ---- request half ----
      unique case (state_q)
        StIdle: begin
          if (cmd_valid_i && cmd_ready_o) begin
            req_q.buff        <= cmd_i[CmdBufLsb +: CmdBufW];
            req_q.row_bytes   <= cmd_i[CmdRowBytesLsb +: 16];
            req_q.rows        <= cmd_i[CmdRowsLsb +: 16];
            req_q.sram_row    <= cmd_i[CmdSramAddrLsb +: 20];
            req_q.sram_stride <= cmd_i[CmdSramStrideLsb +: 20];
            req_q.push        <= cmd_i[PushLsb];
            req_addr_q        <= {cmd_i[CmdDramHiLsb +: 8], cmd_i[CmdDramLoLsb +: 32]};
            dstride_q         <= cmd_i[CmdDramStrideLsb +: 32];
            req_left_q        <= cmd_i[CmdRowsLsb +: 16];
            state_q           <= StCheck;
          end
        end
        StCheck: begin
          if (req_q.row_bytes == '0 || req_q.rows == '0 || buf_words_i == '0) begin
            err_code_q <= StatusBadField;
            state_q    <= StErr;
          end else if (!chk_ok) begin
            err_code_q <= StatusSramRange;
            state_q    <= StErr;
          end else begin
            state_q <= StRun;
          end
        end
        StRun: begin
          if (req_fire) begin
            req_left_q <= req_left_q - 16'd1;
            req_addr_q <= req_addr_q + 40'(dstride_q);
            if (req_left_q == 16'd1) begin
              state_q <= StIdle;
            end
          end
        end
        StErr: state_q <= StErr;
        default: state_q <= StIdle;
      endcase

      // ---- data half ----
      if (beat_o) begin
        pace_q       <= PaceW'(WordCycles - 1);
        sram_addr_q  <= sram_addr_q + 20'd1;
        beats_left_q <= beats_left_q - 16'd1;
        if (last_beat_o) begin
          cur_q.rows     <= cur_q.rows - 16'd1;
          cur_q.sram_row <= cur_q.sram_row + cur_q.sram_stride;
          sram_addr_q    <= cur_q.sram_row + cur_q.sram_stride;
          beats_left_q   <= beats_of(cur_q.row_bytes);
        end
      end else if (pace_q != '0) begin
        pace_q <= pace_q - PaceW'(1);
      end
      if (cmd_done) begin
        push_o  <= cur_q.push;
        cur_v_q <= 1'b0;
      end
      if (wait_pop) begin
        cur_v_q      <= 1'b1;
        cur_q        <= wait_q[wait_rd_q];
        sram_addr_q  <= wait_q[wait_rd_q].sram_row;
        beats_left_q <= beats_of(wait_q[wait_rd_q].row_bytes);
        wait_rd_q    <= wait_next(wait_rd_q);
      end
      if (chk_ok && to_cur) begin
        cur_v_q      <= 1'b1;
        cur_q        <= req_q;
        sram_addr_q  <= req_q.sram_row;
        beats_left_q <= beats_of(req_q.row_bytes);
      end
      if (wait_push) begin
        wait_wr_q <= wait_next(wait_wr_q);
      end
      wait_n_q <= wait_n_q + CntW'(wait_push) - CntW'(wait_pop);
    end
  end

  // the ring's entries need no reset: wait_n_q says which are valid
  always_ff @(posedge clk_i) begin
    if (wait_push) begin
      wait_q[wait_wr_q] <= req_q;
    end
  end

  // A row always has a beat left while its data moves (the check rejects
  // ROW_BYTES = 0; the counter reloads with the next row).
  BeatsLeft_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
    cur_v_q |-> beats_left_q != 16'd0);
  // never more rows in flight than the commands held have rows
  logic [31:0] held_rows;
  always_comb begin
    held_rows = cur_v_q ? 32'(cur_q.rows) : 32'd0;
    for (int unsigned i = 0; i < WaitN; i++) begin
      if (i < 32'(wait_n_q)) begin
        held_rows = held_rows + 32'(wait_q[(32'(wait_rd_q) + i) % WaitN].rows);
      end
    end
  end
  Inflight_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
    held_rows >= 32'(inflight_q));
  // commands wait only behind one whose data moves, at most Depth held
  Wait_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
    wait_n_q != '0 |-> cur_v_q);
  Held_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
    held <= (CntW+1)'(Depth));
endmodule
