package dev.keyturn.fswriter.internal;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;

/**
 * An I/O failure as a person reads it: the path and the operating system's reason. The JDK's file
 * exceptions carry the reason in their type and their message is only the path ({@code
 * AccessDeniedException: /csi}), which says nothing on its own.
 */
public final class IoErrors {
  private IoErrors() {}

  /** "{@code <path>: <reason>}", or the message of an exception that names no file. */
  public static String describe(IOException e) {
    if (!(e instanceof FileSystemException fs) || fs.getFile() == null) {
      return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
    String reason = fs.getReason() != null ? fs.getReason() : reasonOf(fs);
    String other = fs.getOtherFile() == null ? "" : " -> " + fs.getOtherFile();
    return fs.getFile() + other + ": " + reason;
  }

  private static String reasonOf(FileSystemException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    } else if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    } else if (e instanceof NotDirectoryException) {
      return "not a directory";
    } else if (e instanceof FileAlreadyExistsException) {
      return "file exists";
    } else if (e instanceof DirectoryNotEmptyException) {
      return "directory not empty";
    } else if (e instanceof NotLinkException) {
      return "not a symbolic link";
    } else if (e instanceof FileSystemLoopException) {
      return "too many levels of symbolic links";
    }
    return e.getClass().getSimpleName();
  }
}
