// Row-burst walker shared by the load and store engines. It takes a LOAD or
// STORE command (ROWS x ROW_BYTES between device memory and one SRAM), checks
// it once, then walks it: one memory burst per row, one SRAM word (Cols
// bytes) per beat, every row starting at a word boundary. The request for the
// next row goes out with the last beat of the current one, so back-to-back
// rows cost no bubble. The engines add only the direction: where a beat's
// data comes from and goes to.

module qnpu_burst
  import qnpu_pkg::*;
#(
  parameter int unsigned Cols = 16,
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
  // beat_i: a beat can move this cycle (read data valid, or a write channel
  // that takes every beat); beat_o: one moves, to or from SRAM word
  // sram_addr_o, the last of its row if last_beat_o
  input  logic         beat_i,
  output logic         beat_o,
  output logic         last_beat_o,
  output logic [19:0]  sram_addr_o
);
  localparam int unsigned ColsLog = $clog2(Cols);

  typedef enum logic [2:0] {
    StIdle,
    StCheck,
    StReq,
    StData,
    StErr
  } state_e;

  state_e      state_q;
  logic [3:0]  buf_q;
  logic [39:0] dram_q;
  logic [31:0] dstride_q;
  logic [15:0] row_bytes_q, rows_left_q;
  logic [19:0] sram_row_q, sram_stride_q, sram_addr_q;
  logic [15:0] beats_left_q;
  logic        push_q;
  logic [7:0]  err_code_q;

  logic [15:0] beats_per_row;
  assign beats_per_row = 16'((32'(row_bytes_q) + Cols - 1) >> ColsLog);

  // range check of the whole command, done once in StCheck
  logic [63:0] last_word;
  assign last_word = 64'(sram_row_q) + (64'(rows_left_q) - 64'd1) * 64'(sram_stride_q)
                   + 64'(beats_per_row) - 64'd1;

  logic early_req;
  assign early_req   = beat_o && last_beat_o && rows_left_q != 16'd1;
  assign req_valid_o = (state_q == StReq) || early_req;
  assign req_addr_o  = early_req ? dram_q + 40'(dstride_q) : dram_q;
  assign req_len_o   = row_bytes_q;
  assign bytes_o     = (req_valid_o && req_ready_i) ? row_bytes_q : 16'd0;

  assign cmd_ready_o = (state_q == StIdle);
  assign busy_o      = ((state_q != StIdle) && (state_q != StErr)) || push_o;
  assign err_o       = (state_q == StErr);
  assign err_code_o  = err_code_q;
  assign buf_o       = buf_q;
  assign beat_o      = (state_q == StData) && beat_i;
  assign last_beat_o = (beats_left_q == 16'd1);
  assign sram_addr_o = sram_addr_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q       <= StIdle;
      buf_q         <= '0;
      dram_q        <= '0;
      dstride_q     <= '0;
      row_bytes_q   <= '0;
      rows_left_q   <= '0;
      sram_row_q    <= '0;
      sram_stride_q <= '0;
      sram_addr_q   <= '0;
      beats_left_q  <= '0;
      push_q        <= 1'b0;
      err_code_q    <= StatusOk;
      push_o        <= 1'b0;
    end else begin
      push_o <= 1'b0;
      unique case (state_q)
        StIdle: begin
          if (cmd_valid_i) begin
            buf_q         <= cmd_i[CmdBufLsb +: CmdBufW];
            dram_q        <= {cmd_i[CmdDramHiLsb +: 8], cmd_i[CmdDramLoLsb +: 32]};
            dstride_q     <= cmd_i[CmdDramStrideLsb +: 32];
            row_bytes_q   <= cmd_i[CmdRowBytesLsb +: 16];
            rows_left_q   <= cmd_i[CmdRowsLsb +: 16];
            sram_row_q    <= cmd_i[CmdSramAddrLsb +: 20];
            sram_stride_q <= cmd_i[CmdSramStrideLsb +: 20];
            push_q        <= cmd_i[PushLsb];
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
            sram_addr_q <= sram_row_q;
            state_q     <= StReq;
          end
        end
        StReq: begin
          if (req_ready_i) begin
            beats_left_q <= beats_per_row;
            state_q      <= StData;
          end
        end
        StData: begin
          if (beat_i) begin
            sram_addr_q  <= sram_addr_q + 20'd1;
            beats_left_q <= beats_left_q - 16'd1;
            if (last_beat_o) begin
              rows_left_q <= rows_left_q - 16'd1;
              dram_q      <= dram_q + 40'(dstride_q);
              sram_row_q  <= sram_row_q + sram_stride_q;
              sram_addr_q <= sram_row_q + sram_stride_q;
              if (rows_left_q == 16'd1) begin
                push_o  <= push_q;
                state_q <= StIdle;
              end else if (req_ready_i) begin
                beats_left_q <= beats_per_row;
              end else begin
                state_q <= StReq;
              end
            end
          end
        end
        StErr: state_q <= StErr;
        default: state_q <= StIdle;
      endcase
    end
  end

  // A row always has a beat left while its data moves (the check rejects
  // ROW_BYTES = 0; the counter reloads with the next row's request).
  BeatsLeft_A: assert property (@(posedge clk_i) disable iff (!rst_ni)
    state_q == StData |-> beats_left_q != 16'd0);
endmodule
