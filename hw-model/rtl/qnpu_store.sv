// Store engine: STORE commands move ROWS x ROW_BYTES from OBUF to device
// memory, one write burst per row, one OBUF word (Cols bytes) per beat. The
// request for the next row goes out with the last beat of the current one.

module qnpu_store
  import qnpu_pkg::*;
#(
  parameter int unsigned Cols = 16,
  parameter int unsigned ObufWords = 2048,
  localparam int unsigned ObufAw = $clog2(ObufWords)
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              cmd_valid_i,
  input  logic [511:0]      cmd_i,
  output logic              cmd_ready_o,
  output logic              busy_o,
  output logic              active_o,
  output logic              push_prev_o,
  output logic              err_o,
  output logic [7:0]        err_code_o,
  output logic [15:0]       bytes_o,
  // memory write channel (always accepted)
  output logic              wr_req_valid_o,
  output logic [39:0]       wr_req_addr_o,
  output logic [15:0]       wr_req_len_o,
  output logic              wr_valid_o,
  output logic [Cols*8-1:0] wr_data_o,
  // OBUF read port
  output logic [ObufAw-1:0] obuf_raddr_o,
  input  logic [Cols*8-1:0] obuf_rdata_i
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
  logic [19:0] sram_row_q, sram_stride_q, raddr_q;
  logic [15:0] beats_left_q;
  logic        push_prev_q;
  logic [7:0]  err_code_q;

  logic [15:0] beats_per_row;
  logic [63:0] last_word;
  assign beats_per_row = 16'((32'(row_bytes_q) + Cols - 1) >> ColsLog);
  assign last_word = 64'(sram_row_q) + (64'(rows_left_q) - 64'd1) * 64'(sram_stride_q)
                   + 64'(beats_per_row) - 64'd1;

  assign cmd_ready_o    = (state_q == StIdle);
  assign busy_o         = ((state_q != StIdle) && (state_q != StErr)) || push_prev_o;
  assign active_o       = (state_q == StData);
  logic early_req;
  assign early_req      = (state_q == StData) && beats_left_q == 16'd1 && rows_left_q != 16'd1;
  assign wr_req_valid_o = (state_q == StReq) || early_req;
  assign wr_req_addr_o  = early_req ? dram_q + 40'(dstride_q) : dram_q;
  assign wr_req_len_o   = row_bytes_q;
  assign wr_valid_o     = (state_q == StData);
  assign wr_data_o      = obuf_rdata_i;
  assign obuf_raddr_o   = raddr_q[ObufAw-1:0];
  assign err_o          = (state_q == StErr);
  assign err_code_o     = err_code_q;
  assign bytes_o        = wr_req_valid_o ? row_bytes_q : 16'd0;

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
      raddr_q       <= '0;
      beats_left_q  <= '0;
      push_prev_q   <= 1'b0;
      err_code_q    <= StatusOk;
      push_prev_o   <= 1'b0;
    end else begin
      push_prev_o <= 1'b0;
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
            push_prev_q   <= cmd_i[CmdPushPrevLsb];
            state_q       <= StCheck;
          end
        end
        StCheck: begin
          if (row_bytes_q == '0 || rows_left_q == '0 || buf_q != '0) begin
            err_code_q <= StatusBadField;
            state_q    <= StErr;
          end else if (last_word >= 64'(ObufWords)) begin
            err_code_q <= StatusSramRange;
            state_q    <= StErr;
          end else begin
            raddr_q <= sram_row_q;
            state_q <= StReq;
          end
        end
        StReq: begin
          beats_left_q <= beats_per_row;
          state_q      <= StData;
        end
        StData: begin
          raddr_q      <= raddr_q + 20'd1;
          beats_left_q <= beats_left_q - 16'd1;
          if (beats_left_q == 16'd1) begin
            rows_left_q <= rows_left_q - 16'd1;
            dram_q      <= dram_q + 40'(dstride_q);
            sram_row_q  <= sram_row_q + sram_stride_q;
            raddr_q     <= sram_row_q + sram_stride_q;
            if (rows_left_q == 16'd1) begin
              push_prev_o <= push_prev_q;
              state_q     <= StIdle;
            end else begin
              beats_left_q <= beats_per_row;
            end
          end
        end
        StErr: state_q <= StErr;
        default: state_q <= StIdle;
      endcase
    end
  end
endmodule
