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
// The engines add only the direction: where a beat's data comes from and
// goes to.

module qnpu_burst
  import qnpu_pkg::*;
#(
  parameter int unsigned Cols = 16,
  parameter int unsigned DmaBytes = Cols,
  // the command's token flag released when it is done (LOAD: PUSH_NEXT,
  // STORE: PUSH_PREV)
  parameter int unsigned PushLsb = CmdPushNextLsb
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
  // the command's buffer field, and that buffer's size in words from the
  // engine (0: not a buffer this engine serves)
  output logic [3:0]   buf_o,
  input  logic [31:0]  buf_words_i,
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

  typedef enum logic [1:0] {
    StIdle,
    StCheck,
    StRun,
    StErr
  } state_e;

  state_e      state_q;
  logic [3:0]  buf_q;
  logic [39:0] req_addr_q;
  logic [31:0] dstride_q;
  logic [15:0] row_bytes_q, rows_left_q, req_left_q;
  logic [16:0] inflight_q;
  logic [19:0] sram_row_q, sram_stride_q, sram_addr_q;
  logic [15:0] beats_left_q;
  logic [PaceW-1:0] pace_q;
  logic        push_q;
  logic [7:0]  err_code_q;

  logic [15:0] beats_per_row;
  assign beats_per_row = 16'((32'(row_bytes_q) + Cols - 1) >> ColsLog);

  // range check of the whole command, done once in StCheck
  logic [63:0] last_word;
  assign last_word = 64'(sram_row_q) + (64'(rows_left_q) - 64'd1) * 64'(sram_stride_q)
                   + 64'(beats_per_row) - 64'd1;

  logic req_fire, row_done;
  assign req_valid_o = (state_q == StRun) && (req_left_q != 16'd0);
  assign req_addr_o  = req_addr_q;
  assign req_len_o   = row_bytes_q;
  assign req_fire    = req_valid_o && req_ready_i;
  assign bytes_o     = req_fire ? row_bytes_q : 16'd0;

  // data moves only for rows already requested
  assign take_o      = (state_q == StRun) && (inflight_q != 17'd0) && (pace_q == '0);
  assign beat_o      = take_o && beat_i;
  assign last_beat_o = (beats_left_q == 16'd1);
  assign row_done    = beat_o && last_beat_o;
  assign sram_addr_o = sram_addr_q;

  assign cmd_ready_o = (state_q == StIdle);
  assign busy_o      = ((state_q != StIdle) && (state_q != StErr)) || push_o;
  assign err_o       = (state_q == StErr);
  assign err_code_o  = err_code_q;
  assign buf_o       = buf_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q       <= StIdle;
      buf_q         <= '0;
      req_addr_q    <= '0;
      dstride_q     <= '0;
      row_bytes_q   <= '0;
      rows_left_q   <= '0;
      req_left_q    <= '0;
      inflight_q    <= '0;
      sram_row_q    <= '0;
      sram_stride_q <= '0;
      sram_addr_q   <= '0;
      beats_left_q  <= '0;
      pace_q        <= '0;
      push_q        <= 1'b0;
      err_code_q    <= StatusOk;
      push_o        <= 1'b0;
    end else begin
      push_o <= 1'b0;
      unique case (state_q)
        StIdle: begin
          if (cmd_valid_i) begin
            buf_q         <= cmd_i[CmdBufLsb +: CmdBufW];
            req_addr_q    <= {cmd_i[CmdDramHiLsb +: 8], cmd_i[CmdDramLoLsb +: 32]};
            dstride_q     <= cmd_i[CmdDramStrideLsb +: 32];
            row_bytes_q   <= cmd_i[CmdRowBytesLsb +: 16];
            rows_left_q   <= cmd_i[CmdRowsLsb +: 16];
            req_left_q    <= cmd_i[CmdRowsLsb +: 16];
            sram_row_q    <= cmd_i[CmdSramAddrLsb +: 20];
            sram_stride_q <= cmd_i[CmdSramStrideLsb +: 20];
            push_q        <= cmd_i[PushLsb];
            inflight_q    <= '0;
            pace_q        <= '0;
            state_q       <= StCheck;
          end
        end
        StCheck: begin
          if (row_bytes_q == '0 || rows_left_q == '0 || buf_words_i == '0) begin
            err_code_q <= StatusBadField;
            state_q    <= StErr;
          end else if (last_word >= 64'(buf_words_i)) begin
            err_code_q <= StatusSramRange;
            state_q    <= StErr;
          end else begin
            sram_addr_q  <= sram_row_q;
            beats_left_q <= beats_per_row;
            state_q      <= StRun;
          end
        end
        StRun: begin
          if (req_fire) begin
            req_left_q <= req_left_q - 16'd1;
            req_addr_q <= req_addr_q + 40'(dstride_q);
          end
          inflight_q <= inflight_q + 17'(req_fire) - 17'(row_done);
          if (beat_o) begin
            pace_q       <= PaceW'(WordCycles - 1);
            sram_addr_q  <= sram_addr_q + 20'd1;
            beats_left_q <= beats_left_q - 16'd1;
            if (last_beat_o) begin
              rows_left_q  <= rows_left_q - 16'd1;
              sram_row_q   <= sram_row_q + sram_stride_q;
              sram_addr_q  <= sram_row_q + sram_stride_q;
              beats_left_q <= beats_per_row;
              if (rows_left_q == 16'd1) begin
                push_o  <= push_q;
                state_q <= StIdle;
              end
            end
          end else if (pace_q != '0) begin
            pace_q <= pace_q - PaceW'(1);
          end
        end
        StErr: state_q <= StErr;
        default: state_q <= StIdle;
      endcase
    end
  end

  // A row always has a beat left while its data moves (the check rejects
  // ROW_BYTES = 0; the counter reloads with the next row).
  BeatsLeft_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
    state_q == StRun |-> beats_left_q != 16'd0);
  // never more rows in flight than requested, and none left over at the end
  Inflight_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
    state_q == StRun |-> 17'(rows_left_q) >= inflight_q);
endmodule
