// Load engine: LOAD commands move ROWS x ROW_BYTES from device memory into
// ABUF, WBUF or PBUF, one read burst per row, one SRAM word (Cols bytes) per
// beat. Each row starts at a word boundary; the tail of its last word is zero.
// The request for the next row goes out with the last beat of the current
// one, so back-to-back rows cost no bubble.

module qnpu_load
  import qnpu_pkg::*;
#(
  parameter int unsigned Cols = 16,
  parameter int unsigned AbufWords = 4096,
  parameter int unsigned WbufWords = 2048,
  parameter int unsigned PbufWords = 256
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              cmd_valid_i,
  input  logic [511:0]      cmd_i,
  output logic              cmd_ready_o,
  output logic              busy_o,
  output logic              active_o,
  output logic              push_next_o,
  output logic              err_o,
  output logic [7:0]        err_code_o,
  output logic [15:0]       bytes_o,
  // memory read channel
  output logic              rd_req_valid_o,
  output logic [39:0]       rd_req_addr_o,
  output logic [15:0]       rd_req_len_o,
  input  logic              rd_req_ready_i,
  input  logic              rd_valid_i,
  input  logic [Cols*8-1:0] rd_data_i,
  // SRAM write port (shared address/data, one enable per buffer)
  output logic              abuf_we_o,
  output logic              wbuf_we_o,
  output logic              pbuf_we_o,
  output logic [19:0]       waddr_o,
  output logic [Cols*8-1:0] wdata_o
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
  logic [19:0] sram_row_q, sram_stride_q, waddr_q;
  logic [15:0] beats_left_q;
  logic        push_next_q;
  logic [7:0]  err_code_q;

  logic [15:0] beats_per_row;
  assign beats_per_row = 16'((32'(row_bytes_q) + Cols - 1) >> ColsLog);

  // range check of the whole command, done once in StCheck
  logic [63:0] last_word;
  logic [63:0] buf_words;
  always_comb begin
    last_word = 64'(sram_row_q) + (64'(rows_left_q) - 64'd1) * 64'(sram_stride_q)
              + 64'(beats_per_row) - 64'd1;
    unique case (buf_q)
      BufAbuf: buf_words = 64'(AbufWords);
      BufWbuf: buf_words = 64'(WbufWords);
      BufPbuf: buf_words = 64'(PbufWords);
      default: buf_words = 64'd0;
    endcase
  end

  assign cmd_ready_o    = (state_q == StIdle);
  assign busy_o         = ((state_q != StIdle) && (state_q != StErr)) || push_next_o;
  assign active_o       = (state_q == StData) && rd_valid_i;
  logic early_req;
  assign early_req      = (state_q == StData) && rd_valid_i && beats_left_q == 16'd1 &&
                          rows_left_q != 16'd1;
  assign rd_req_valid_o = (state_q == StReq) || early_req;
  assign rd_req_addr_o  = early_req ? dram_q + 40'(dstride_q) : dram_q;
  assign rd_req_len_o   = row_bytes_q;
  assign err_o          = (state_q == StErr);
  assign err_code_o     = err_code_q;
  assign bytes_o        = (rd_req_valid_o && rd_req_ready_i) ? row_bytes_q : 16'd0;

  logic we;
  assign we        = (state_q == StData) && rd_valid_i;
  assign abuf_we_o = we && (buf_q == BufAbuf);
  assign wbuf_we_o = we && (buf_q == BufWbuf);
  assign pbuf_we_o = we && (buf_q == BufPbuf);
  assign waddr_o   = waddr_q;

  // zero the bytes past the end of the row in its last word
  always_comb begin
    wdata_o = rd_data_i;
    if (beats_left_q == 16'd1 && row_bytes_q[ColsLog-1:0] != '0) begin
      for (int unsigned b = 0; b < Cols; b++) begin
        if (b >= 32'(row_bytes_q[ColsLog-1:0])) begin
          wdata_o[b*8 +: 8] = 8'h00;
        end
      end
    end
  end

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
      waddr_q       <= '0;
      beats_left_q  <= '0;
      push_next_q   <= 1'b0;
      err_code_q    <= StatusOk;
      push_next_o   <= 1'b0;
    end else begin
      push_next_o <= 1'b0;
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
            push_next_q   <= cmd_i[CmdPushNextLsb];
            state_q       <= StCheck;
          end
        end
        StCheck: begin
          if (row_bytes_q == '0 || rows_left_q == '0 || buf_q > BufPbuf) begin
            err_code_q <= StatusBadField;
            state_q    <= StErr;
          end else if (last_word >= buf_words) begin
            err_code_q <= StatusSramRange;
            state_q    <= StErr;
          end else begin
            waddr_q <= sram_row_q;
            state_q <= StReq;
          end
        end
        StReq: begin
          if (rd_req_ready_i) begin
            beats_left_q <= beats_per_row;
            state_q      <= StData;
          end
        end
        StData: begin
          if (rd_valid_i) begin
            waddr_q      <= waddr_q + 20'd1;
            beats_left_q <= beats_left_q - 16'd1;
            if (beats_left_q == 16'd1) begin
              rows_left_q <= rows_left_q - 16'd1;
              dram_q      <= dram_q + 40'(dstride_q);
              sram_row_q  <= sram_row_q + sram_stride_q;
              waddr_q     <= sram_row_q + sram_stride_q;
              if (rows_left_q == 16'd1) begin
                push_next_o <= push_next_q;
                state_q     <= StIdle;
              end else if (rd_req_ready_i) begin
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
endmodule
